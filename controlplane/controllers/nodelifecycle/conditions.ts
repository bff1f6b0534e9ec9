// A node silent for longer than the grace period: its agent can no longer vouch for any of its
// conditions, so every condition becomes Unknown (NodeStatusUnknown, "Kubelet stopped posting
// node status."), keeping its last heartbeat; a node that never reported gets Ready=Unknown
// (NodeStatusNeverUpdated). Returns undefined when nothing needs to change.

import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { kubeTime } from '../../../api/time.js';

/** The conditions kube-controller-manager marks Unknown (the agent's own pressure conditions too). */
const MONITORED = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function conditionsAfterSilence(node: Node, nowMs: number): NodeCondition[] | undefined {
  const conditions = node.status?.conditions ?? [];
  const now = kubeTime(nowMs);
  let changed = false;
  const next = conditions.map((c) => {
    if (!MONITORED.includes(c.type) || c.status === 'Unknown') return c;
    changed = true;
    return { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now };
  });
  if (!conditions.some((c) => c.type === 'Ready')) {
    changed = true;
    next.push({
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
      lastHeartbeatTime: node.metadata?.creationTimestamp,
      lastTransitionTime: now,
    });
  }
  return changed ? next : undefined;
}
