// "Hollow" nodes: Node objects with a Ready status and a Lease in kube-node-lease, kept alive by
// the test instead of an agent (no containers run). Enough for the scheduler and the node
// controllers, which only ever see the API.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../api/client.js';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { kubeMicroTime, kubeTime } from '../../api/time.js';

const nodes = resourceFor('', 'nodes');
const leases = resourceFor('coordination.k8s.io', 'leases');

export interface HollowNodeShape {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

export class HollowNodes {
  private readonly alive = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    /** How often each living node renews its Lease (kubelet: 10 s). */
    private readonly renewEveryMs = 200,
  ) {}

  /** Registers a node, Ready, with its Lease; it heartbeats until `stop`. */
  async add(name: string, shape: HollowNodeShape = {}): Promise<void> {
    await this.client.create<KubeObject>(nodes, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...shape.labels } },
      spec: { taints: shape.taints, unschedulable: shape.unschedulable },
    });
    await this.setReady(name, 'True', shape);
    await this.client.create<KubeObject>(leases, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: kubeMicroTime() },
    });
    this.alive.add(name);
    this.timer ??= setInterval(() => void this.renewAll(), this.renewEveryMs);
  }

  /** Writes the node's status as an agent would: capacity, allocatable and a Ready condition. */
  async setReady(name: string, status: 'True' | 'False', shape?: HollowNodeShape): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const node = await this.client.get<Node & KubeObject>(nodes, undefined, name);
      const resources = shape
        ? { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' }
        : (node.status?.allocatable as Record<string, string>);
      const conditions = (node.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
      conditions.push({
        type: 'Ready',
        status,
        reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady',
        message: status === 'True' ? 'skiff agent is posting ready status' : 'not ready',
        lastHeartbeatTime: kubeTime(),
        lastTransitionTime: kubeTime(),
      });
      try {
        await this.client.updateStatus(nodes, undefined, { ...node, status: { ...node.status, capacity: resources, allocatable: resources, conditions } });
        return;
      } catch (err) {
        if (attempt > 5) throw err;
      }
    }
  }

  /** The node's agent "dies": no more Lease renewals. */
  stop(name: string): void {
    this.alive.delete(name);
  }

  /** The agent comes back: renews again and reports Ready (as an agent does on restart). */
  async revive(name: string): Promise<void> {
    this.alive.add(name);
    await this.renew(name);
    await this.setReady(name, 'True');
  }

  async renew(name: string): Promise<void> {
    try {
      const lease = await this.client.get<Lease & KubeObject>(leases, 'kube-node-lease', name);
      await this.client.update(leases, 'kube-node-lease', { ...lease, spec: { ...lease.spec, renewTime: kubeMicroTime() } });
    } catch (err) {
      // A conflict is the periodic renewal getting there first (revive races it): renewed either way.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  private async renewAll(): Promise<void> {
    await Promise.all([...this.alive].map((name) => this.renew(name).catch(() => undefined)));
  }

  close(): void {
    clearInterval(this.timer);
    this.alive.clear();
  }
}
