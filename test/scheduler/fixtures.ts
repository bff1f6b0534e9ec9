// Plain objects for the scheduler's tests: pods and nodes as the API would return them, and
// NodeInfos/caches built from them without any network.

import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from '../../controlplane/scheduler/cache.js';
import { NodeInfo } from '../../controlplane/scheduler/node-info.js';
import { podInfoOf } from '../../controlplane/scheduler/pod-info.js';
import type { PodInfo } from '../../controlplane/scheduler/pod-info.js';

export interface NodeShape {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | 'missing';
}

export function node(name: string, shape: NodeShape = {}): Node {
  const ready = shape.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...shape.labels } },
    spec: { taints: shape.taints, unschedulable: shape.unschedulable },
    status: {
      allocatable: { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' },
      capacity: { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' },
      conditions: ready === 'missing' ? [] : [{ type: 'Ready', status: ready, reason: 'KubeletReady' }],
    },
  };
}

export interface PodShape {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  owner?: string;
  hostPort?: number;
  spec?: Partial<NonNullable<Pod['spec']>>;
}

export function pod(name: string, shape: PodShape = {}): Pod {
  const requests: Record<string, string> = {};
  if (shape.cpu) requests['cpu'] = shape.cpu;
  if (shape.memory) requests['memory'] = shape.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: shape.namespace ?? 'default',
      uid: `uid-${name}`,
      labels: shape.labels,
      ownerReferences: shape.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: shape.owner, uid: `uid-${shape.owner}`, controller: true }] : undefined,
    },
    spec: {
      nodeName: shape.nodeName,
      schedulerName: 'default-scheduler',
      containers: [
        {
          name: 'app',
          image: 'busybox',
          resources: Object.keys(requests).length > 0 ? { requests } : undefined,
          ports: shape.hostPort ? [{ containerPort: 80, hostPort: shape.hostPort, protocol: 'TCP' }] : undefined,
        },
      ],
      ...shape.spec,
    },
  };
}

export function nodeInfo(n: Node, ...podsOnIt: Pod[]): NodeInfo {
  const info = new NodeInfo(n.metadata!.name!);
  info.setNode(n);
  for (const p of podsOnIt) info.addPod(podInfoOf(p));
  return info;
}

export function info(p: Pod): PodInfo {
  return podInfoOf(p);
}

/** A cache holding these nodes and the pods bound to them (pods name their node). */
export function cacheOf(nodes: Node[], boundPods: Pod[] = []): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const p of boundPods) cache.setBoundPod(p);
  cache.setNamespace('default', { 'kubernetes.io/metadata.name': 'default' });
  return cache;
}
