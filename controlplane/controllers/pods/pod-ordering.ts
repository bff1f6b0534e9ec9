// Which pods a controller removes first when it has too many: Kubernetes' ActivePodsWithRanks
// order (pkg/controller/controller_utils.go). Pods that cost least to lose go first:
//   1. not yet on a node, before pods on a node;
//   2. Pending, before Unknown, before Running;
//   3. not ready, before ready;
//   4. lower `controller.kubernetes.io/pod-deletion-cost`, before higher;
//   5. pods sharing their node with more related pods ("doubled up"), before the others;
//   6. ready for a shorter time, before longer (compared in powers of two of the age, as the
//      LogarithmicScaleDown feature does, so that pods of about the same age are picked at random
//      by UID rather than always the newest);
//   7. more container restarts, before fewer;
//   8. created later, before earlier (again in powers of two);
//   9. by UID.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady, maxContainerRestarts, parseTime, podReadySince } from './pod-state.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function phaseOrder(pod: Pod): number {
  return PHASE_ORDER[pod.status?.phase ?? ''] ?? 0;
}

/** The pod's deletion cost (an int32 annotation); 0 when absent or malformed. */
export function podDeletionCost(pod: Pod): number {
  const raw = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (raw === undefined || !/^[+-]?\d+$/.test(raw.trim())) return 0;
  const n = Number(raw.trim());
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

/** floor(log2(age in ns)), or -1 for no age: pods in the same bucket count as equally old. */
function ageBucket(timeMs: number, nowMs: number): number {
  const ageNs = (nowMs - timeMs) * 1e6;
  return ageNs > 0 ? Math.floor(Math.log2(ageNs)) : -1;
}

/**
 * Orders two instants so that the more recent goes first, missing ones before all. Returns
 * undefined when the instants are equal or fall in the same age bucket (the caller then breaks
 * the tie).
 */
function newerFirst(a: number | undefined, b: number | undefined, nowMs: number): number | undefined {
  if (a === b) return undefined;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const diff = ageBucket(a, nowMs) - ageBucket(b, nowMs);
  return diff === 0 ? undefined : diff;
}

function byUid(a: Pod, b: Pod): number {
  const ua = a.metadata?.uid ?? '';
  const ub = b.metadata?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

export interface RankedPod {
  pod: Pod;
  /** How many related pods share this pod's node (higher goes first). */
  rank: number;
}

/** Negative when `a` should be deleted before `b`. */
export function compareForDeletion(a: RankedPod, b: RankedPod, nowMs: number): number {
  const pa = a.pod;
  const pb = b.pod;
  const nodeA = pa.spec?.nodeName ?? '';
  const nodeB = pb.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  if (phaseOrder(pa) !== phaseOrder(pb)) return phaseOrder(pa) - phaseOrder(pb);
  const readyA = isPodReady(pa);
  const readyB = isPodReady(pb);
  if (readyA !== readyB) return readyA ? 1 : -1;
  const costA = podDeletionCost(pa);
  const costB = podDeletionCost(pb);
  if (costA !== costB) return costA - costB;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (readyA && readyB) {
    const sinceA = podReadySince(pa);
    const sinceB = podReadySince(pb);
    if (sinceA !== sinceB) return newerFirst(sinceA, sinceB, nowMs) ?? byUid(pa, pb);
  }
  const restartsA = maxContainerRestarts(pa);
  const restartsB = maxContainerRestarts(pb);
  if (restartsA !== restartsB) return restartsB - restartsA;
  const createdA = parseTime(pa.metadata?.creationTimestamp);
  const createdB = parseTime(pb.metadata?.creationTimestamp);
  if (createdA !== createdB) return newerFirst(createdA, createdB, nowMs) ?? byUid(pa, pb);
  return byUid(pa, pb);
}

/**
 * Ranks each pod by the number of active `related` pods on its node (the pods of every
 * ReplicaSet of the same Deployment, for a ReplicaSet), so that scale-down evens out nodes.
 */
export function rankByPodsOnSameNode(pods: readonly Pod[], related: readonly Pod[]): RankedPod[] {
  const perNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  return pods.map((pod) => ({ pod, rank: perNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
}

/** The `count` pods to delete first out of `pods` (all of them, unsorted, when count ≥ length). */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, nowMs: number): Pod[] {
  if (count <= 0) return [];
  if (count >= pods.length) return [...pods];
  const ranked = rankByPodsOnSameNode(pods, related);
  ranked.sort((a, b) => compareForDeletion(a, b, nowMs));
  return ranked.slice(0, count).map((r) => r.pod);
}
