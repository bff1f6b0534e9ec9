// When did a node last show signs of life? kube-controller-manager's node lifecycle controller
// keeps, per node, the time *it* observed the last change of the node's Lease (renewTime) or of
// its Ready condition's heartbeat, on its own clock: the agent's clock is never trusted.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';

interface Health {
  probedAt: number;
  heartbeat: string | undefined;
  renewTime: string | undefined;
}

export class HeartbeatTracker {
  private readonly nodes = new Map<string, Health>();

  constructor(private readonly now: () => number) {}

  private entry(name: string): Health {
    let health = this.nodes.get(name);
    if (!health) this.nodes.set(name, (health = { probedAt: this.now(), heartbeat: undefined, renewTime: undefined }));
    return health;
  }

  /** A node was seen: its Ready heartbeat changing counts as a sign of life. */
  observeNode(node: Node): void {
    const health = this.entry(node.metadata?.name ?? '');
    const heartbeat = node.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime;
    if (heartbeat !== health.heartbeat) {
      if (health.heartbeat !== undefined) health.probedAt = this.now();
      health.heartbeat = heartbeat;
    }
  }

  /** A node Lease was seen: a new renewTime counts as a sign of life. Returns whether it was one. */
  observeLease(lease: Lease): boolean {
    const health = this.entry(lease.metadata?.name ?? '');
    const renewTime = lease.spec?.renewTime;
    if (renewTime === health.renewTime) return false;
    const changed = health.renewTime !== undefined;
    if (changed) health.probedAt = this.now();
    health.renewTime = renewTime;
    return changed;
  }

  forget(name: string): void {
    this.nodes.delete(name);
  }

  /** Milliseconds since the last sign of life (since first seen, for a node never heard from). */
  silentFor(name: string): number {
    return this.now() - this.entry(name).probedAt;
  }
}
