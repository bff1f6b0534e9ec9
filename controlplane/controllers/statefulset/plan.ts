// One step of a StatefulSet towards its spec, as kube-controller-manager's updateStatefulSet
// takes it: a pure function of the set, its pods and its two revisions, returning the pod
// creations, deletions and relabellings to make. In three phases, each starting only when the
// one before it has nothing left to do:
//   1. every ordinal in [start, start+replicas) gets a pod; a pod that failed (or succeeded) is
//      deleted, and made again once it is gone;
//   2. pods above the range ("condemned") are deleted, highest ordinal first;
//   3. RollingUpdate: the highest pod (at or above the partition) not of the update revision is
//      deleted, to come back at the new revision, once every pod above it is available again.
// OrderedReady (the default) takes one step at a time and waits for each pod to be Running,
// Ready and available for minReadySeconds before touching the next ordinal; Parallel creates and
// deletes all at once, but rolls updates out one pod at a time all the same.

import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodTerminal } from '../pods/pod-state.js';
import { identityMatches, ordinalOf, podName, podRevision, startOrdinal } from './identity.js';
import { isRunningAndAvailable, isRunningAndReady, isTerminating, isUnavailable } from './pod-health.js';
import { replicaCounts } from './status.js';
import type { ReplicaCounts } from './status.js';

export type Step =
  /** Makes the pod of `ordinal` from the template of `revision` (a ControllerRevision name). */
  | { action: 'create'; ordinal: number; revision: string }
  | { action: 'delete'; pod: Pod; reason: 'terminated' | 'scale-down' | 'update' }
  /** Puts back the identity labels of a pod the set owns (an adopted pod, or a relabelled one). */
  | { action: 'restoreIdentity'; pod: Pod; ordinal: number };

export interface StatefulSetPlan {
  /** OrderedReady: the steps of a phase run one after the other; Parallel: all at once. */
  ordered: boolean;
  /** Non-empty phases in order; a phase runs only when every step of the one before succeeded. */
  phases: Step[][];
  /** What keeps the set from going further (for logs and tests). */
  waitingFor?: string;
  /** The replica counts for the status, with a pod deleted for the update no longer current. */
  counts: ReplicaCounts;
}

export interface PlanInput {
  set: StatefulSet;
  /** The set's pods: the members (`<set>-<ordinal>`) it owns. */
  pods: readonly Pod[];
  currentRevision: string;
  updateRevision: string;
  nowMs: number;
}

/** The pods at each ordinal of the range (undefined where none exists) and the condemned ones, highest ordinal first. */
export function podsByOrdinal(set: StatefulSet, pods: readonly Pod[]): { replicas: (Pod | undefined)[]; condemned: Pod[] } {
  const start = startOrdinal(set);
  const replicas = new Array<Pod | undefined>(Math.max(0, set.spec?.replicas ?? 1)).fill(undefined);
  const condemned: { pod: Pod; ordinal: number }[] = [];
  for (const pod of pods) {
    const ordinal = ordinalOf(set, pod);
    if (ordinal === undefined) continue;
    if (ordinal >= start && ordinal - start < replicas.length) replicas[ordinal - start] = pod;
    else condemned.push({ pod, ordinal });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);
  return { replicas, condemned: condemned.map((c) => c.pod) };
}

/**
 * The revision a new pod of `ordinal` gets (newVersionedStatefulSetPod): during a RollingUpdate,
 * pods below the partition stay at the current revision (without a rollingUpdate block: below the
 * count of current pods); every other pod, and every pod under OnDelete, gets the update revision.
 */
export function revisionForNewPod(set: StatefulSet, ordinal: number, currentRevision: string, updateRevision: string): string {
  const strategy = set.spec?.updateStrategy;
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return updateRevision;
  const keep = strategy?.rollingUpdate ? (strategy.rollingUpdate.partition ?? 0) : (set.status?.currentReplicas ?? 0);
  return ordinal < startOrdinal(set) + keep ? currentRevision : updateRevision;
}

export function planStatefulSet({ set, pods, currentRevision, updateRevision, nowMs }: PlanInput): StatefulSetPlan {
  const minReadySeconds = set.spec?.minReadySeconds ?? 0;
  const ordered = set.spec?.podManagementPolicy !== 'Parallel';
  const counts = replicaCounts(pods, minReadySeconds, currentRevision, updateRevision, nowMs);
  const unavailable = (pod: Pod) => isUnavailable(pod, minReadySeconds, nowMs);
  const phases: Step[][] = [];
  const plan = (waitingFor?: string): StatefulSetPlan => ({ ordered, phases: phases.filter((p) => p.length > 0), counts, ...(waitingFor ? { waitingFor } : {}) });
  const { replicas, condemned } = podsByOrdinal(set, pods);
  const start = startOrdinal(set);

  // 1. A pod at every ordinal of the range.
  const fill: Step[] = [];
  phases.push(fill);
  const leaving = new Set<Pod>();
  for (const [i, pod] of replicas.entries()) {
    const ordinal = start + i;
    if (!pod) {
      fill.push({ action: 'create', ordinal, revision: revisionForNewPod(set, ordinal, currentRevision, updateRevision) });
      if (ordered) return plan();
      continue;
    }
    if (isPodTerminal(pod)) {
      // Its successor takes its name, so it comes only once this one is gone.
      if (!isTerminating(pod)) fill.push({ action: 'delete', pod, reason: 'terminated' });
      leaving.add(pod);
      if (ordered) return plan(`${pod.metadata?.name} (${pod.status?.phase}) to be replaced`);
      continue;
    }
    if (isTerminating(pod)) {
      if (ordered) return plan(`${pod.metadata?.name} to terminate`);
      continue;
    }
    if (ordered && !isRunningAndReady(pod)) return plan(`${pod.metadata?.name} to be Running and Ready`);
    if (ordered && !isRunningAndAvailable(pod, minReadySeconds, nowMs)) return plan(`${pod.metadata?.name} to be available`);
    if (!identityMatches(set, pod)) fill.push({ action: 'restoreIdentity', pod, ordinal });
  }

  // 2. Scale down, highest ordinal first. Ordered, a pod goes only once those below it are
  // available, unless it is itself the lowest unavailable one.
  const shrink: Step[] = [];
  phases.push(shrink);
  const lowestUnavailable = condemned.findLast(unavailable);
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (ordered) return plan(`${pod.metadata?.name} to terminate`);
      continue;
    }
    if (ordered && pod !== lowestUnavailable && !isRunningAndAvailable(pod, minReadySeconds, nowMs)) {
      return plan(`${lowestUnavailable?.metadata?.name} to be available before ${pod.metadata?.name} is removed`);
    }
    shrink.push({ action: 'delete', pod, reason: 'scale-down' });
    if (ordered) return plan();
  }

  // 3. Roll the update out, highest ordinal first, one pod at a time.
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return plan();
  const update: Step[] = [];
  phases.push(update);
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let i = replicas.length - 1; i >= partition; i--) {
    const pod = replicas[i];
    if (!pod || leaving.has(pod)) return plan(`${podName(set, start + i)} to be created`);
    if (podRevision(pod) !== updateRevision && !isTerminating(pod)) {
      update.push({ action: 'delete', pod, reason: 'update' });
      if (podRevision(pod) === currentRevision) counts.currentReplicas--;
      return plan();
    }
    if (unavailable(pod)) return plan(`${pod.metadata?.name} to be available at the update revision`);
  }
  return plan();
}
