// What a DaemonSet wants on each node (podsShouldBeOnNode): a pod where it should run and has
// none; failed pods replaced; extra pods removed (the oldest is kept, or during a surge update
// the old and new pod until the new one is available); every pod removed from nodes it must
// leave. Pure: the controller creates and deletes.

import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { scaledValue } from '../deployment/surge.js';
import { isPodAvailable, isPodReady, isPodTerminal, parseTime } from '../pods/pod-state.js';
import type { Placement } from './node-eligibility.js';
import { CONTROLLER_REVISION_HASH_LABEL, targetNodeOf } from './pod-template.js';

/** The DaemonSet's pods by the node they are for (terminal pods already being deleted left out). */
export function podsByNode<P extends Pod>(pods: readonly P[]): Map<string, P[]> {
  const byNode = new Map<string, P[]>();
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp && isPodTerminal(pod)) continue;
    const node = targetNodeOf(pod);
    if (node === undefined) continue;
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(pod);
  }
  return byNode;
}

/** Scheduled pods first, then oldest first, then by name (podByCreationTimestampAndPhase). */
export function byScheduledThenAge(a: Pod, b: Pod): number {
  const sa = !!a.spec?.nodeName;
  const sb = !!b.spec?.nodeName;
  if (sa !== sb) return sa ? -1 : 1;
  const ta = parseTime(a.metadata?.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata?.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function isRollingUpdate(ds: DaemonSet): boolean {
  return (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** maxSurge against `nodes` nodes, rounded up (util.SurgeCount). */
export function surgeCount(ds: DaemonSet, nodes: number): number {
  if (!isRollingUpdate(ds)) return 0;
  const value = ds.spec?.updateStrategy?.rollingUpdate?.maxSurge;
  return value === undefined ? 0 : scaledValue(value, nodes, true);
}

/** maxUnavailable against `nodes` nodes, rounded up (util.UnavailableCount). */
export function unavailableCount(ds: DaemonSet, nodes: number): number {
  if (!isRollingUpdate(ds)) return 0;
  const value = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable;
  return value === undefined ? 0 : scaledValue(value, nodes, true);
}

export function allowsSurge(ds: DaemonSet): boolean {
  return surgeCount(ds, 1) !== 0;
}

export interface NodePlan {
  /** Create a pod on this node. */
  create: boolean;
  /** Pods to delete (not counting failed ones). */
  delete: Pod[];
  /** Failed pods to replace (the controller rate-limits these per node). */
  failed: Pod[];
}

/**
 * @param pods the DaemonSet's pods for this node (terminal pods being deleted left out)
 */
export function podsShouldBeOnNode(ds: DaemonSet, hash: string, placement: Placement, pods: readonly Pod[], nowMs: number): NodePlan {
  const plan: NodePlan = { create: false, delete: [], failed: [] };
  if (placement.shouldRun && pods.length === 0) {
    plan.create = true;
    return plan;
  }
  if (!placement.shouldContinueRunning) {
    plan.delete = pods.filter((p) => !p.metadata?.deletionTimestamp);
    return plan;
  }
  const running: Pod[] = [];
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const phase = pod.status?.phase;
    if (phase === 'Failed') plan.failed.push(pod);
    // A daemon pod that exited successfully is not running its daemon either.
    else if (phase === 'Succeeded') plan.delete.push(pod);
    else running.push(pod);
  }
  running.sort(byScheduledThenAge);
  if (!allowsSurge(ds)) {
    // One pod per node: keep the oldest.
    plan.delete.push(...running.slice(1));
    return plan;
  }
  if (running.length <= 1) {
    if (running.length === 0 && placement.shouldRun) plan.create = true;
    return plan;
  }
  // Surging: keep the oldest new pod and, until it is available, the oldest old pod.
  let oldestNew: Pod | undefined;
  let oldestOld: Pod | undefined;
  for (const pod of running) {
    const current = pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
    if (current && !oldestNew) oldestNew = pod;
    else if (!current && !oldestOld) oldestOld = pod;
    else plan.delete.push(pod);
  }
  if (oldestNew && oldestOld) {
    if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, nowMs)) plan.delete.push(oldestOld);
  }
  return plan;
}
