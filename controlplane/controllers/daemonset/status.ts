// A DaemonSet's status (updateDaemonSetStatus): over the nodes that should run it, how many have
// a pod, a ready pod, an available pod, a pod of the current revision; and how many nodes run a
// pod they should not.

import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isPodAvailable, isPodReady } from '../pods/pod-state.js';
import { nodeShouldRunDaemonPod } from './node-eligibility.js';
import { byScheduledThenAge } from './placement.js';
import { isPodUpdated, templateGeneration } from './pod-template.js';

type MutableStatus = { -readonly [K in keyof DaemonSetStatus]: DaemonSetStatus[K] };

export function daemonSetStatus(ds: DaemonSet, nodes: readonly Node[], nodeToPods: ReadonlyMap<string, readonly Pod[]>, hash: string, nowMs: number): MutableStatus {
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  const generation = templateGeneration(ds);
  for (const node of nodes) {
    const pods = nodeToPods.get(node.metadata?.name ?? '') ?? [];
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    if (!shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    if (pods.length === 0) continue;
    current++;
    // The oldest pod speaks for the node.
    const pod = [...pods].sort(byScheduledThenAge)[0]!;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, nowMs)) available++;
    }
    if (isPodUpdated(pod, hash, generation)) updated++;
  }
  const status: MutableStatus = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    numberAvailable: available,
    updatedNumberScheduled: updated,
    observedGeneration: ds.status?.observedGeneration ?? 0,
  };
  if (desired - available > 0) status.numberUnavailable = desired - available;
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions) status.conditions = ds.status.conditions;
  return status;
}

export function daemonSetStatusDiffers(current: DaemonSetStatus | undefined, next: DaemonSetStatus): boolean {
  const c = current ?? ({} as DaemonSetStatus);
  const keys = [
    'desiredNumberScheduled',
    'currentNumberScheduled',
    'numberMisscheduled',
    'numberReady',
    'numberAvailable',
    'numberUnavailable',
    'updatedNumberScheduled',
    'observedGeneration',
    'collisionCount',
  ] as const;
  return keys.some((k) => (c[k] ?? 0) !== (next[k] ?? 0));
}
