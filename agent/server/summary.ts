// GET /stats/summary: the node's and its pods' resource use, in the shape of kubelet's Summary
// API (stats/v1alpha1, the fields metrics-server read) plus `node.windowSeconds`, the interval
// the CPU rates were averaged over. The API server turns it into metrics.k8s.io NodeMetrics and
// PodMetrics (controlplane/apiserver/metricsapi.ts holds the other side of this contract).

import type { ResourceUsageSource } from '../interfaces.js';
import type { FilesystemUsage, MemoryUsage, NodeCpuSampler } from './nodeusage.js';
import { readFilesystem, readMemory } from './nodeusage.js';
import { kubeTime } from '../../api/time.js';

export interface Summary {
  node: {
    nodeName: string;
    windowSeconds: number;
    cpu: { time: string; usageNanoCores: number; usageCoreNanoSeconds: number };
    memory: { time: string } & MemoryUsage;
    fs: { time: string } & FilesystemUsage;
  };
  pods: {
    podRef: { name: string; namespace: string };
    containers: { name: string; cpu: { time: string; usageNanoCores: number }; memory: { time: string; workingSetBytes: number } }[];
  }[];
}

export interface SummarySources {
  nodeName: string;
  cpu: NodeCpuSampler;
  usage: ResourceUsageSource;
  /** The filesystem the node reports (the agent's data directory's). */
  filesystemPath: string;
}

/** The summary, or undefined while the first CPU sampling window has not passed yet. */
export async function buildSummary(sources: SummarySources): Promise<Summary | undefined> {
  const cpu = sources.cpu.usage;
  if (!cpu) return undefined;
  const [memory, fs, pods] = await Promise.all([readMemory(), readFilesystem(sources.filesystemPath), sources.usage.podUsage()]);
  const now = kubeTime();
  const cpuTime = kubeTime(cpu.at);
  return {
    node: {
      nodeName: sources.nodeName,
      windowSeconds: cpu.windowSeconds,
      cpu: { time: cpuTime, usageNanoCores: Math.round(cpu.usageNanoCores), usageCoreNanoSeconds: Math.round(cpu.usageCoreNanoSeconds) },
      memory: { time: now, ...memory },
      fs: { time: now, ...fs },
    },
    pods: pods.map((pod) => ({
      podRef: { name: pod.name, namespace: pod.namespace },
      containers: pod.containers.map((c) => ({
        name: c.name,
        cpu: { time: now, usageNanoCores: Math.round(c.cpuNanoCores) },
        memory: { time: now, workingSetBytes: Math.round(c.memoryWorkingSetBytes) },
      })),
    })),
  };
}
