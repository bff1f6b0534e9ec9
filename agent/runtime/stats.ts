// `kubectl top` for the agent's endpoint: CPU and memory of the running containers, read with
// Docker's one-shot stats (API ≥ 1.41; a streaming sample would take 1–2 s per container while
// the daemon primes two readings). CPU is a rate, so each reading is compared with the previous
// one of the same container; the first reading averages over the container's lifetime.

import type { PodUsage, ResourceUsageSource } from '../interfaces.js';
import type { Engine } from './engine.js';
import type { RuntimeContainer } from './inventory.js';

interface CpuSample {
  totalNs: number;
  atMs: number;
}

interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** Running app containers grouped by pod. */
export type RunningContainers = () => { namespace: string; name: string; containers: RuntimeContainer[] }[];

export function workingSetBytes(stats: DockerStats): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const detail = stats.memory_stats?.stats ?? {};
  // cgroup v1 reports total_inactive_file, v2 inactive_file; the kubelet subtracts it (working set).
  const inactive = detail['total_inactive_file'] ?? detail['inactive_file'] ?? 0;
  return Math.max(0, usage - inactive);
}

export class DockerUsage implements ResourceUsageSource {
  private readonly previous = new Map<string, CpuSample>();

  constructor(
    private readonly engine: Engine,
    private readonly running: RunningContainers,
  ) {}

  async podUsage(): Promise<PodUsage[]> {
    const pods = this.running();
    const live = new Set<string>();
    const result = await Promise.all(
      pods.map(async (pod) => ({
        namespace: pod.namespace,
        name: pod.name,
        containers: (
          await Promise.all(
            pod.containers.map(async (c) => {
              live.add(c.id);
              try {
                return await this.containerUsage(c);
              } catch {
                return undefined; // it stopped meanwhile
              }
            }),
          )
        ).filter((u): u is NonNullable<typeof u> => u !== undefined),
      })),
    );
    for (const id of this.previous.keys()) if (!live.has(id)) this.previous.delete(id);
    return result;
  }

  private async containerUsage(c: RuntimeContainer): Promise<{ name: string; cpuNanoCores: number; memoryWorkingSetBytes: number }> {
    const stats = (await this.engine.call('container_stats', (d) => d.getContainer(c.id).stats({ stream: false, 'one-shot': true }))) as DockerStats;
    const totalNs = stats.cpu_stats?.cpu_usage?.total_usage ?? 0;
    const atMs = stats.read ? Date.parse(stats.read) : Date.now();
    const before = this.previous.get(c.id) ?? { totalNs: 0, atMs: c.startedAt ? Date.parse(c.startedAt) : atMs };
    this.previous.set(c.id, { totalNs, atMs });
    const elapsedNs = (atMs - before.atMs) * 1e6;
    const cpuNanoCores = elapsedNs > 0 ? Math.max(0, Math.round(((totalNs - before.totalNs) / elapsedNs) * 1e9)) : 0;
    return { name: c.identity.containerName, cpuNanoCores, memoryWorkingSetBytes: workingSetBytes(stats) };
  }
}
