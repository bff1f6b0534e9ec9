// Counting a Job's failures: failed pods (restartPolicy Never), container restarts
// (restartPolicy OnFailure), and the exponential delay before a failed pod is replaced
// (10 s, 20 s, 40 s ... up to 6 min, counting failures since the last success).

import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseTime, totalContainerRestarts } from '../pods/pod-state.js';
import { hasPodFailurePolicy } from './pod-failure-policy.js';

export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;

/**
 * Whether a replacement waits until the pod it replaces has reached a terminal phase
 * (onlyReplaceFailedPods): with podReplacementPolicy Failed, and always with a podFailurePolicy,
 * whose rules can only judge a pod once it has finished (its exit codes, its last conditions).
 */
export function onlyReplacesFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || hasPodFailurePolicy(job);
}

/**
 * Whether a pod counts as failed (isPodFailed): it failed, or it is being deleted without having
 * succeeded, since an orphan deleted early never reaches a terminal phase. When only failed pods
 * are replaced, a pod being deleted counts once it is Failed (its agent gets it there, or the
 * node lifecycle controller, as PodGC does, when its node is gone).
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplacesFailedPods(job)) return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** With restartPolicy OnFailure, container restarts of active pods use up the backoff limit. */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Running' || phase === 'Pending') restarts += totalContainerRestarts(pod);
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** When a pod finished: its containers' last finish, else its last condition change. */
export function finishedAt(pod: Pod): number | undefined {
  let latest: number | undefined;
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const t = parseTime(s.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  for (const c of pod.status?.conditions ?? []) {
    const t = parseTime(c.lastTransitionTime);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  return latest ?? parseTime(pod.metadata?.deletionTimestamp);
}

/**
 * How long to wait before creating a replacement pod: base × 2^(failures − 1) after the last
 * failure, counting failures since the last success (the Job controller's backoffRecord).
 */
export function replacementDelay(job: Job, pods: readonly Pod[], nowMs: number, baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  let lastSuccess = -Infinity;
  for (const pod of pods) if (pod.status?.phase === 'Succeeded') lastSuccess = Math.max(lastSuccess, finishedAt(pod) ?? nowMs);
  let failures = 0;
  let lastFailure = -Infinity;
  for (const pod of pods) {
    if (!isPodFailed(pod, job)) continue;
    const t = finishedAt(pod) ?? nowMs;
    if (t < lastSuccess) continue;
    failures++;
    lastFailure = Math.max(lastFailure, t);
  }
  if (failures === 0) return 0;
  const delay = Math.min(baseMs * 2 ** (failures - 1), maxMs);
  return Math.max(0, lastFailure + delay - nowMs);
}
