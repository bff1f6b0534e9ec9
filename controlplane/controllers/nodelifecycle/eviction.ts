// NoExecute eviction (kube-controller-manager's taint eviction controller): a pod on a node with
// NoExecute taints must tolerate every one of them to stay. Tolerating them forever (no
// tolerationSeconds) keeps it there; otherwise it goes after the shortest tolerationSeconds of
// the tolerations it uses, counted from when the newest of those taints was added.

import type { Pod, Taint } from 'kubernetes-types/core/v1.js';
import { tolerates, toleratesTaint } from '../../scheduler/tolerations.js';

export type Eviction = { kind: 'now' } | { kind: 'at'; atMs: number } | { kind: 'never' };

export function evictionFor(pod: Pod, taints: readonly Taint[], nowMs: number): Eviction {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { kind: 'never' };
  const tolerations = pod.spec?.tolerations ?? [];
  if (noExecute.some((taint) => !tolerates(tolerations, taint))) return { kind: 'now' };
  let seconds: number | undefined;
  for (const toleration of tolerations) {
    if (typeof toleration.tolerationSeconds !== 'number') continue;
    if (!noExecute.some((taint) => toleratesTaint(toleration, taint))) continue;
    seconds = Math.min(seconds ?? Infinity, Math.max(0, toleration.tolerationSeconds));
  }
  if (seconds === undefined) return { kind: 'never' };
  let addedAt = 0;
  for (const taint of noExecute) {
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : nowMs;
    if (Number.isFinite(added) && added > addedAt) addedAt = added;
  }
  const atMs = (addedAt || nowMs) + seconds * 1000;
  return atMs <= nowMs ? { kind: 'now' } : { kind: 'at', atMs };
}
