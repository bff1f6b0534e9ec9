// One node as the scheduler sees it: the Node object's scheduling-relevant fields, parsed once,
// and running totals over the pods bound (or assumed) to it, kept up to date pod by pod so that
// filters and scores never walk the pod list.

import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import type { Labels } from '../../api/labels.js';
import { amountOf } from './pod-info.js';
import type { HostPort, PodInfo, ResourceAmounts } from './pod-info.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export function readyStatusOf(node: Node | undefined): ConditionStatus {
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
}

const WILDCARD_IP = '0.0.0.0';

export class NodeInfo {
  node: Node | undefined;
  labels: Labels = {};
  taints: readonly Taint[] = [];
  unschedulable = false;
  ready: ConditionStatus = 'Unknown';
  allocatable: ResourceAmounts = new Map();
  readonly requested: ResourceAmounts = new Map();
  // The amounts every filter and score reads for every node, also as plain fields: a Map lookup
  // per node and resource was the largest part of a placement over 1,000 nodes.
  allocatablePods = 0;
  allocatableMilliCpu = 0;
  allocatableMemory = 0;
  requestedMilliCpu = 0;
  requestedMemory = 0;
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** `protocol/port` → ip → how many pods use it. */
  private readonly hostPorts = new Map<string, Map<string, number>>();

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.ready = readyStatusOf(node);
    const allocatable: ResourceAmounts = new Map();
    for (const [name, value] of Object.entries((node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, string>)) {
      allocatable.set(name, amountOf(name, value));
    }
    this.allocatable = allocatable;
    this.allocatablePods = allocatable.get('pods') ?? 0;
    this.allocatableMilliCpu = allocatable.get('cpu') ?? 0;
    this.allocatableMemory = allocatable.get('memory') ?? 0;
  }

  get podCount(): number {
    return this.pods.size;
  }

  addPod(pod: PodInfo): void {
    if (this.pods.has(pod.key)) this.removePod(this.pods.get(pod.key)!);
    this.pods.set(pod.key, pod);
    for (const [name, value] of pod.requests) this.requested.set(name, (this.requested.get(name) ?? 0) + value);
    this.requestedMilliCpu = this.requested.get('cpu') ?? 0;
    this.requestedMemory = this.requested.get('memory') ?? 0;
    this.nonZeroMilliCpu += pod.nonZeroMilliCpu;
    this.nonZeroMemory += pod.nonZeroMemory;
    for (const hp of pod.hostPorts) {
      const id = `${hp.protocol}/${hp.port}`;
      let ips = this.hostPorts.get(id);
      if (!ips) this.hostPorts.set(id, (ips = new Map()));
      ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
    }
  }

  removePod(pod: PodInfo): void {
    const current = this.pods.get(pod.key);
    if (!current) return;
    this.pods.delete(pod.key);
    for (const [name, value] of current.requests) this.requested.set(name, (this.requested.get(name) ?? 0) - value);
    this.requestedMilliCpu = this.requested.get('cpu') ?? 0;
    this.requestedMemory = this.requested.get('memory') ?? 0;
    this.nonZeroMilliCpu -= current.nonZeroMilliCpu;
    this.nonZeroMemory -= current.nonZeroMemory;
    for (const hp of current.hostPorts) {
      const id = `${hp.protocol}/${hp.port}`;
      const ips = this.hostPorts.get(id);
      const left = (ips?.get(hp.ip) ?? 0) - 1;
      if (left > 0) ips!.set(hp.ip, left);
      else ips?.delete(hp.ip);
      if (ips?.size === 0) this.hostPorts.delete(id);
    }
  }

  /**
   * Whether a host port is taken: the same protocol and port on the same IP, or on any IP when
   * either side listens on 0.0.0.0 (kube-scheduler's HostPortInfo.CheckConflict).
   */
  hostPortInUse(hp: HostPort): boolean {
    const ips = this.hostPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips || ips.size === 0) return false;
    if (hp.ip === WILDCARD_IP) return true;
    return ips.has(hp.ip) || ips.has(WILDCARD_IP);
  }
}
