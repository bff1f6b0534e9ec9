// The jobs table (batch/v1): NAME STATUS COMPLETIONS DURATION AGE, and the cronjobs table: NAME
// SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE; both add CONTAINERS IMAGES SELECTOR for
// `-o wide`.

import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import { humanDuration, parseTimestamp, timeSince } from './duration.js';
import { formatLabelSelector } from './labels.js';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, column, containerCells, printer } from './printer.js';

const JOB_SELECTOR_COLUMN = column('Selector', 'string', 'Label selector of the job pods.', { priority: 1 });

export const jobPrinter = printer<Job>(
  [
    NAME_COLUMN,
    column('Status', 'string', 'Complete, Failed, Terminating, Suspended, FailureTarget or Running.'),
    column('Completions', 'string', 'Succeeded pods out of the completions wanted.'),
    column('Duration', 'string', 'How long the job ran, or has been running.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    JOB_SELECTOR_COLUMN,
  ],
  (job, now) => [
    job.metadata?.name ?? '',
    jobStatus(job),
    completions(job),
    jobDuration(job, now),
    timeSince(job.metadata?.creationTimestamp, now),
    ...containerCells(job.spec?.template?.spec?.containers),
    formatLabelSelector(job.spec?.selector),
  ],
);

export const cronJobPrinter = printer<CronJob>(
  [
    NAME_COLUMN,
    column('Schedule', 'string', 'The schedule in Cron format.'),
    column('Timezone', 'string', 'The time zone the schedule is read in.'),
    column('Suspend', 'boolean', 'Whether later executions are suspended.'),
    column('Active', 'integer', 'The number of running jobs.'),
    column('Last Schedule', 'string', 'When a job was last scheduled.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    JOB_SELECTOR_COLUMN,
  ],
  (cronJob, now) => {
    const lastSchedule = cronJob.status?.lastScheduleTime;
    const suspend = cronJob.spec?.suspend;
    return [
      cronJob.metadata?.name ?? '',
      cronJob.spec?.schedule ?? '',
      cronJob.spec?.timeZone ?? '<none>',
      // Go prints a *bool: True, False, or <unset> when absent.
      suspend === undefined || suspend === null ? '<unset>' : suspend ? 'True' : 'False',
      cronJob.status?.active?.length ?? 0,
      lastSchedule ? timeSince(lastSchedule, now) : '<none>',
      timeSince(cronJob.metadata?.creationTimestamp, now),
      ...containerCells(cronJob.spec?.jobTemplate?.spec?.template?.spec?.containers),
      formatLabelSelector(cronJob.spec?.jobTemplate?.spec?.selector),
    ];
  },
);

/** `2/3`; a work-queue job (no completions) shows `0/1`, or `0/1 of 4` with parallelism above one. */
function completions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined && job.spec.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** Empty before the job starts; time since start while running; start to completion after. */
function jobDuration(job: Job, now: Date): string {
  const start = parseTimestamp(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTimestamp(job.status?.completionTime) ?? now.getTime();
  return humanDuration(end - start);
}

/** Terminal conditions first, then deletion, then the transient states. */
function jobStatus(job: Job): string {
  const conditions = job.status?.conditions ?? [];
  if (hasCondition(conditions, 'Complete')) return 'Complete';
  if (hasCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** The first condition of the type decides. */
function hasCondition(conditions: readonly JobCondition[], type: string): boolean {
  return conditions.find((c) => c.type === type)?.status === 'True';
}
