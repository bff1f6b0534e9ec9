// The Jobs of a CronJob: the Job created for a start time, how a Job ended, and which finished
// Jobs fall outside the history limits. Pure functions of the objects.

import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { formatInZone } from '../../../api/cron.js';
import type { KubeObject } from '../../../api/objects.js';
import { newControllerRef } from '../ownership/controller-ref.js';
import { jobNameFor } from './schedule.js';

/** The start time a Job was created for, in the CronJob's time zone (RFC 3339). */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export type JobObject = Job & KubeObject;
export type CronJobObject = CronJob & KubeObject;
export type JobEnd = 'Complete' | 'Failed';

/** The Job a CronJob starts at `scheduledMs` (getJobFromTemplate2). */
export function jobForStart(cronJob: CronJobObject, scheduledMs: number): JobObject {
  const template = cronJob.spec?.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob.metadata?.name ?? '', scheduledMs),
      namespace: cronJob.metadata?.namespace,
      labels: { ...template?.metadata?.labels },
      annotations: { ...template?.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduledMs, cronJob.spec?.timeZone ?? 'UTC') },
      ownerReferences: [newControllerRef(cronJob, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template?.spec ?? { template: {} }),
  };
}

/** What `status.active` holds for a Job. */
export function jobReference(job: JobObject): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    namespace: job.metadata?.namespace,
    name: job.metadata?.name,
    uid: job.metadata?.uid,
    resourceVersion: job.metadata?.resourceVersion,
  };
}

/** How the Job ended, or undefined while it runs. */
export function jobEnd(job: Job): JobEnd | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

function startedAt(job: Job): number {
  const at = Date.parse(job.status?.startTime ?? job.metadata?.creationTimestamp ?? '');
  return Number.isNaN(at) ? Number.MAX_SAFE_INTEGER : at;
}

/**
 * Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first (by
 * start time, then name, as Kubernetes sorts them). A limit that is not set keeps everything.
 */
export function jobsBeyondHistory(cronJob: CronJob, jobs: readonly JobObject[]): JobObject[] {
  const surplus: JobObject[] = [];
  const limits: [JobEnd, number | undefined][] = [
    ['Complete', cronJob.spec?.successfulJobsHistoryLimit],
    ['Failed', cronJob.spec?.failedJobsHistoryLimit],
  ];
  for (const [end, limit] of limits) {
    if (typeof limit !== 'number') continue;
    const finished = jobs
      .filter((j) => jobEnd(j) === end && !j.metadata?.deletionTimestamp)
      .sort((a, b) => startedAt(a) - startedAt(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    surplus.push(...finished.slice(0, Math.max(0, finished.length - limit)));
  }
  return surplus;
}
