// Job conditions and their Kubernetes reasons and messages. Since 1.31 a Job first gets an
// interim condition when its fate is decided (SuccessCriteriaMet or FailureTarget) and the
// terminal one (Complete or Failed) only once all its pods have terminated.

import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import { kubeTime } from '../../../api/time.js';

export type JobConditionType = 'Complete' | 'Failed' | 'SuccessCriteriaMet' | 'FailureTarget' | 'Suspended';

export const JOB_REASON = {
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  /** A failed pod matched a FailJob rule; the message names the pod and the rule. */
  podFailurePolicy: 'PodFailurePolicy',
  completionsReached: 'CompletionsReached',
  suspended: 'JobSuspended',
  resumed: 'JobResumed',
} as const;

export const JOB_MESSAGE = {
  backoffLimitExceeded: 'Job has reached the specified backoff limit',
  deadlineExceeded: 'Job was active longer than specified deadline',
  completionsReached: 'Reached expected number of succeeded pods',
} as const;

/** The decided outcome of a Job, before and after its pods have all terminated. */
export interface Outcome {
  success: boolean;
  reason: string;
  message: string;
}

export function newJobCondition(type: JobConditionType, status: 'True' | 'False', reason: string, message: string, nowMs: number): JobCondition {
  const now = kubeTime(nowMs);
  return { type, status, reason, message, lastProbeTime: now, lastTransitionTime: now };
}

export function findCondition(job: Job, type: JobConditionType): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

export function hasTrueCondition(job: Job, type: JobConditionType): boolean {
  return findCondition(job, type)?.status === 'True';
}

/** Complete or Failed: nothing more happens to this Job. */
export function isJobFinished(job: Job): boolean {
  return hasTrueCondition(job, 'Complete') || hasTrueCondition(job, 'Failed');
}

/** The outcome recorded by an interim condition of an earlier sync, if any. */
export function recordedOutcome(job: Job): Outcome | undefined {
  const success = findCondition(job, 'SuccessCriteriaMet');
  if (success?.status === 'True') return { success: true, reason: success.reason ?? JOB_REASON.completionsReached, message: success.message ?? '' };
  const failure = findCondition(job, 'FailureTarget');
  if (failure?.status === 'True') return { success: false, reason: failure.reason ?? '', message: failure.message ?? '' };
  return undefined;
}

/** Conditions with `condition` added, or replacing one of its type whose status or reason differ. */
export function withCondition(conditions: readonly JobCondition[], condition: JobCondition): JobCondition[] {
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason && current.message === condition.message) return [...conditions];
  return [...conditions.filter((c) => c.type !== condition.type), condition];
}
