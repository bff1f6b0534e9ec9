// Counting finished pods exactly once, even if they are deleted right after (Kubernetes' job
// tracking with finalizers): every Job pod carries the `batch.kubernetes.io/job-tracking`
// finalizer. A finished pod's UID is first written to status.uncountedTerminatedPods, then its
// finalizer is removed, then the UID moves into the succeeded or failed counter. A crash between
// any two steps loses nothing and counts nothing twice.

import type { Job, UncountedTerminatedPods } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Outcome } from './conditions.js';
import { isIndexed } from './indexed.js';
import { countsAsFailure } from './pod-failure-policy.js';
import { isPodFailed } from './pod-failures.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

/** The most UIDs kept in uncountedTerminatedPods at once (MaxUncountedPods), to bound its size. */
export const MAX_UNCOUNTED_PODS = 500;

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

export interface Uncounted {
  succeeded: string[];
  failed: string[];
}

/** uncountedTerminatedPods as Kubernetes writes it: empty lists left out. */
export function uncountedStatus(u: Uncounted): UncountedTerminatedPods {
  const out: { succeeded?: string[]; failed?: string[] } = {};
  if (u.succeeded.length > 0) out.succeeded = u.succeeded;
  if (u.failed.length > 0) out.failed = u.failed;
  return out;
}

export function uncountedOf(job: Job): Uncounted {
  const u: UncountedTerminatedPods = job.status?.uncountedTerminatedPods ?? {};
  return { succeeded: [...(u.succeeded ?? [])], failed: [...(u.failed ?? [])] };
}

/** Finished pods not yet counted anywhere: the newly succeeded and newly failed ones. */
export function newlyFinished(job: Job, pods: readonly Pod[], expectedRemovals: ReadonlySet<string>): { succeeded: Pod[]; failed: Pod[] } {
  const indexed = isIndexed(job);
  const u = uncountedOf(job);
  const seen = new Set([...u.succeeded, ...u.failed]);
  const succeeded: Pod[] = [];
  const failed: Pod[] = [];
  for (const pod of pods) {
    const uid = pod.metadata?.uid ?? '';
    if (!hasTrackingFinalizer(pod) || seen.has(uid) || expectedRemovals.has(uid)) continue;
    if (pod.status?.phase === 'Succeeded') {
      if (!indexed) succeeded.push(pod);
    } else if (isPodFailed(pod, job)) failed.push(pod);
  }
  return { succeeded, failed };
}

export interface TrackingStep {
  /** uncountedTerminatedPods with this sync's finished pods added. */
  uncounted: Uncounted;
  /** Whether `uncounted` differs from the Job's (it must be written before finalizers go). */
  changed: boolean;
  /** Pods whose finalizer may be removed once `uncounted` is written. */
  release: Pod[];
}

/**
 * Phase one: which pods' finalizers can go and which UIDs must be recorded first
 * (trackJobStatusAndRemoveFinalizers). Once the outcome is decided, every remaining pod can go;
 * a pod that did not succeed then counts as failed unless the Job succeeded or a podFailurePolicy
 * Ignore rule matches it (a pod evicted with DisruptionTarget, say). An Indexed Job's
 * succeeded pods are not recorded by UID: status.completedIndexes, written in the same update,
 * records their indexes.
 */
export function trackFinishedPods(job: Job, pods: readonly Pod[], expectedRemovals: ReadonlySet<string>, outcome: Outcome | undefined): TrackingStep {
  const uncounted = uncountedOf(job);
  const succeeded = new Set(uncounted.succeeded);
  const failed = new Set(uncounted.failed);
  const release: Pod[] = [];
  const indexed = isIndexed(job);
  let changed = false;
  for (const pod of pods) {
    const uid = pod.metadata?.uid ?? '';
    if (!hasTrackingFinalizer(pod) || expectedRemovals.has(uid)) continue;
    const podFailed = isPodFailed(pod, job);
    const finishedOrDoomed = !!job.metadata?.deletionTimestamp || outcome !== undefined || pod.status?.phase === 'Succeeded' || podFailed;
    if (!finishedOrDoomed) continue;
    release.push(pod);
    if (pod.status?.phase === 'Succeeded' && !failed.has(uid)) {
      if (!indexed && !succeeded.has(uid)) {
        succeeded.add(uid);
        uncounted.succeeded.push(uid);
        changed = true;
      }
    } else if (podFailed || (outcome !== undefined && !outcome.success)) {
      // A failure an Ignore rule matches is released without being recorded: it never counts.
      if (!failed.has(uid) && countsAsFailure(job, pod)) {
        failed.add(uid);
        uncounted.failed.push(uid);
        changed = true;
      }
    }
    if (uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED_PODS) break;
  }
  return { uncounted, changed, release };
}

/**
 * Phase three: UIDs whose pods no longer carry the finalizer (removed, or the pod is gone) move
 * from uncountedTerminatedPods into the counters.
 */
export function countReleased(succeeded: number, failed: number, uncounted: Uncounted, stillTracked: ReadonlySet<string>): { succeeded: number; failed: number; uncounted: Uncounted } {
  const keepSucceeded = uncounted.succeeded.filter((uid) => stillTracked.has(uid));
  const keepFailed = uncounted.failed.filter((uid) => stillTracked.has(uid));
  return {
    succeeded: succeeded + uncounted.succeeded.length - keepSucceeded.length,
    failed: failed + uncounted.failed.length - keepFailed.length,
    uncounted: { succeeded: keepSucceeded, failed: keepFailed },
  };
}
