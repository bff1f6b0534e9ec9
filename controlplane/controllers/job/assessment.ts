// What a Job's pods say about it (the first half of syncJob): how many are active, ready,
// terminating; how many succeeded and failed in total; and whether its outcome is now decided:
// success once enough pods succeeded, failure when a failed pod matches a FailJob rule of the
// podFailurePolicy, past the backoff limit or past the active deadline.

import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodReady, isPodTerminal, parseTime } from '../pods/pod-state.js';
import { JOB_MESSAGE, JOB_REASON, recordedOutcome } from './conditions.js';
import type { Outcome } from './conditions.js';
import { countsAsFailure, failJobMessage } from './pod-failure-policy.js';
import { isPodFailed, pastBackoffLimitOnFailure } from './pod-failures.js';
import { isIndexed, succeededIndexes } from './indexed.js';
import { newlyFinished, uncountedOf } from './tracking.js';

export interface Assessment {
  active: Pod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  /** Indexed Jobs: the succeeded indexes (recorded ones and those of pods that succeeded). */
  completedIndexes?: Set<number>;
  /** A failure decided now or earlier (success is decided after the pods were managed). */
  failure?: Outcome;
  /** The recorded success of an earlier sync. */
  success?: Outcome;
  /** When the active deadline passes, if it has not yet. */
  deadlineInMs?: number;
}

export function isSuspended(job: Job): boolean {
  return job.spec?.suspend === true;
}

export function assessJob(job: Job, pods: readonly Pod[], expectedRemovals: ReadonlySet<string>, startMs: number | undefined, nowMs: number): Assessment {
  const active = pods.filter(isPodActive);
  const fresh = newlyFinished(job, pods, expectedRemovals);
  const uncounted = uncountedOf(job);
  const completedIndexes = isIndexed(job) ? succeededIndexes(job, pods) : undefined;
  const a: Assessment = {
    active,
    ready: active.filter(isPodReady).length,
    terminating: pods.filter((p) => !!p.metadata?.deletionTimestamp && !isPodTerminal(p)).length,
    // An Indexed Job counts indexes, not pods: two pods of one index that both succeed are one.
    succeeded: completedIndexes ? completedIndexes.size : (job.status?.succeeded ?? 0) + fresh.succeeded.length + uncounted.succeeded.length,
    // Failures an Ignore rule matches are not counted at all (nonIgnoredFailedPodsCount).
    failed: (job.status?.failed ?? 0) + fresh.failed.filter((p) => countsAsFailure(job, p)).length + uncounted.failed.length,
  };
  if (completedIndexes) a.completedIndexes = completedIndexes;
  const recorded = recordedOutcome(job);
  // Any failed pod may match a FailJob rule, counted or not: the check comes before the backoff
  // limit, so that the Job fails for the reason its policy names.
  const failJob = recorded ? undefined : failJobMessage(job, pods.filter((p) => isPodFailed(p, job)));
  if (recorded?.success) a.success = recorded;
  else if (recorded) a.failure = recorded;
  else if (failJob !== undefined) a.failure = { success: false, reason: JOB_REASON.podFailurePolicy, message: failJob };
  else if (a.failed > (job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, active)) {
    a.failure = { success: false, reason: JOB_REASON.backoffLimitExceeded, message: JOB_MESSAGE.backoffLimitExceeded };
  } else {
    const deadline = job.spec?.activeDeadlineSeconds;
    if (deadline !== undefined && startMs !== undefined && !isSuspended(job)) {
      const left = startMs + deadline * 1000 - nowMs;
      if (left <= 0) a.failure = { success: false, reason: JOB_REASON.deadlineExceeded, message: JOB_MESSAGE.deadlineExceeded };
      else a.deadlineInMs = left;
    }
  }
  return a;
}

/** How many pods should be active (manageJob's wantActive). */
export function wantedActive(job: Job, succeeded: number, active: number): number {
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  // Without completions the first success ends the Job: let what runs finish, start nothing.
  if (completions === undefined || completions === null) return succeeded > 0 ? active : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

/** Enough pods succeeded and none runs any more. */
export function isComplete(job: Job, succeeded: number, active: number): boolean {
  const completions = job.spec?.completions;
  if (completions === undefined || completions === null) return succeeded > 0 && active === 0;
  return succeeded >= completions && active === 0;
}

export function startTimeOf(job: Job): number | undefined {
  return parseTime(job.status?.startTime);
}
