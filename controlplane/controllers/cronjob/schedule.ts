// When a CronJob should start its next Job, as kube-controller-manager's cronjob controller v2
// decides it (utils.go mostRecentScheduleTime): the latest start time in (earliest, now], where
// earliest is the last schedule time (or the creation time) but never older than
// startingDeadlineSeconds. Pure functions of the CronJob, the parsed schedule and the clock.

import type { CronJob } from 'kubernetes-types/batch/v1.js';
import type { CronSchedule } from '../../../api/cron.js';

/** Kubernetes reports more than this many missed start times as "too many missed start times". */
export const MAX_MISSED_START_TIMES = 100;
/** Requeues land a little after the start time so that the sync sees it as due. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export interface DueStart {
  /** The earliest moment a start time is looked for after. */
  earliestMs: number;
  /** The most recent start time in (earliest, now], if any. */
  mostRecentMs?: number;
  /** How many start times fell in (earliest, now] (approximate beyond a few). */
  missed: number;
}

function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Where the search for unmet start times begins. */
export function earliestStartSearch(cronJob: CronJob, nowMs: number, withDeadline: boolean): number {
  let earliest = parseTime(cronJob.status?.lastScheduleTime) ?? parseTime(cronJob.metadata?.creationTimestamp) ?? nowMs;
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  // Start times older than the deadline could not start anyway: they are not even counted.
  if (withDeadline && typeof deadline === 'number') earliest = Math.max(earliest, nowMs - deadline * 1000);
  return earliest;
}

/** The most recent start time not yet run, and how many were missed. */
export function mostRecentStart(cronJob: CronJob, schedule: CronSchedule, nowMs: number, withDeadline = true): DueStart {
  const earliestMs = earliestStartSearch(cronJob, nowMs, withDeadline);
  const t1 = schedule.next(earliestMs);
  if (t1 === undefined || t1 > nowMs) return { earliestMs, missed: 0 };
  const t2 = schedule.next(t1);
  if (t2 === undefined || t2 > nowMs) return { earliestMs, mostRecentMs: t1, missed: 1 };
  // Counting one by one could take long after a long outage; Kubernetes estimates the count
  // from the first interval, then walks forward from just before the estimate.
  const interval = Math.max(1000, Math.round((t2 - t1) / 1000) * 1000);
  const missed = Math.floor((nowMs - t1) / interval) + 1;
  const estimate = t1 + (missed - 2) * interval;
  // An irregular schedule can make the estimate overshoot: then walk from the second start.
  const mostRecentMs = (estimate > t2 && estimate <= nowMs ? lastStartUpTo(schedule, estimate, nowMs) : undefined) ?? lastStartUpTo(schedule, t2, nowMs) ?? t2;
  return { earliestMs, mostRecentMs, missed };
}

/** The last start time in [fromMs, nowMs], if any. */
function lastStartUpTo(schedule: CronSchedule, fromMs: number, nowMs: number): number | undefined {
  let last: number | undefined;
  for (let t = schedule.next(fromMs - 1); t !== undefined && t <= nowMs; t = schedule.next(t)) last = t;
  return last;
}

/** Whether a start time is past its startingDeadlineSeconds. */
export function isTooLate(cronJob: CronJob, scheduledMs: number, nowMs: number): boolean {
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  return typeof deadline === 'number' && scheduledMs + deadline * 1000 < nowMs;
}

/** How long until the next start time after now (plus a small delta), or undefined if none. */
export function untilNextStart(schedule: CronSchedule, nowMs: number): number | undefined {
  const next = schedule.next(nowMs);
  return next === undefined ? undefined : next - nowMs + NEXT_SCHEDULE_DELTA_MS;
}

/** Kubernetes names a CronJob's Job after its start time in minutes since the epoch. */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}
