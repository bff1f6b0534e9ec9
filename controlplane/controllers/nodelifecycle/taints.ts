// The taints a node's state implies (TaintNodesByCondition and taint-based eviction):
//   Ready=False   → node.kubernetes.io/not-ready   NoSchedule + NoExecute
//   Ready=Unknown → node.kubernetes.io/unreachable NoSchedule + NoExecute
//   spec.unschedulable → node.kubernetes.io/unschedulable NoSchedule
// Other taints are the user's and stay. A NoExecute taint records when it was added, the moment
// from which tolerationSeconds count.

import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../../scheduler/tolerations.js';
import { readyStatusOf } from '../../scheduler/node-info.js';
import { kubeTime } from '../../../api/time.js';

const MANAGED = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE]);

function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function desiredTaints(node: Node, nowMs: number): Taint[] {
  const current = node.spec?.taints ?? [];
  const wanted: Taint[] = [];
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready') ? readyStatusOf(node) : 'Unknown';
  const conditionKey = ready === 'False' ? TAINT_NOT_READY : ready === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  if (conditionKey) {
    wanted.push({ key: conditionKey, effect: 'NoSchedule' });
    wanted.push({ key: conditionKey, effect: 'NoExecute', timeAdded: kubeTime(nowMs) });
  }
  if (node.spec?.unschedulable) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  // Keep what is already there unchanged (its timeAdded above all).
  const managed = wanted.map((w) => current.find((c) => sameTaint(c, w)) ?? w);
  return [...current.filter((t) => !MANAGED.has(t.key)), ...managed];
}

export function taintsEqual(a: readonly Taint[], b: readonly Taint[]): boolean {
  return a.length === b.length && a.every((t, i) => JSON.stringify(t) === JSON.stringify(b[i]));
}
