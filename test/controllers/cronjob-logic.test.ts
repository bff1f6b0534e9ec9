// The CronJob controller's pure decisions: start times in a time zone, the most recent unmet
// start time, missed starts and the starting deadline, Job names and history limits.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { formatInZone, parseSchedule } from '../../api/cron.js';
import type { CronSchedule } from '../../api/cron.js';
import { SCHEDULED_TIMESTAMP_ANNOTATION, jobForStart, jobsBeyondHistory } from '../../controlplane/controllers/cronjob/jobs.js';
import type { CronJobObject, JobObject } from '../../controlplane/controllers/cronjob/jobs.js';
import { MAX_MISSED_START_TIMES, isTooLate, jobNameFor, mostRecentStart, untilNextStart } from '../../controlplane/controllers/cronjob/schedule.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function schedule(spec: string, zone?: string): CronSchedule {
  const parsed = parseSchedule(spec, zone);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.schedule;
}

function cronJob(spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}, created = '2026-01-01T00:00:00Z'): CronJob {
  return { metadata: { name: 'hello', namespace: 'default', uid: 'u1', creationTimestamp: created }, spec: { schedule: '*/5 * * * *', jobTemplate: {}, ...spec }, status };
}

describe('cron schedules', () => {
  test('five fields and macros, strictly after the given time', () => {
    assert.equal(iso(schedule('*/5 * * * *').next(at('2026-01-01T00:00:00Z'))), '2026-01-01T00:05:00.000Z');
    assert.equal(iso(schedule('*/5 * * * *').next(at('2026-01-01T00:04:59.500Z'))), '2026-01-01T00:05:00.000Z');
    assert.equal(iso(schedule('@hourly').next(at('2026-01-01T00:30:00Z'))), '2026-01-01T01:00:00.000Z');
    assert.equal(iso(schedule('@weekly').next(at('2026-01-01T00:00:00Z'))), '2026-01-04T00:00:00.000Z');
    assert.equal(iso(schedule('@yearly').next(at('2026-01-01T00:00:00Z'))), '2027-01-01T00:00:00.000Z');
  });

  test('both day fields restricted: either matches, as in cron', () => {
    // 2026-01-01 is a Thursday; the 15th or any Monday.
    assert.equal(iso(schedule('0 0 15 * 1').next(at('2026-01-01T00:00:00Z'))), '2026-01-05T00:00:00.000Z');
    assert.equal(iso(schedule('0 0 15 * *').next(at('2026-01-01T00:00:00Z'))), '2026-01-15T00:00:00.000Z');
  });

  test('read in the time zone, daylight saving included', () => {
    const nine = schedule('0 9 * * *', 'America/New_York');
    assert.equal(iso(nine.next(at('2026-03-07T00:00:00Z'))), '2026-03-07T14:00:00.000Z');
    assert.equal(iso(nine.next(at('2026-03-09T00:00:00Z'))), '2026-03-09T13:00:00.000Z');
    assert.equal(formatInZone(at('2026-03-09T13:00:00Z'), 'America/New_York'), '2026-03-09T09:00:00-04:00');
    assert.equal(formatInZone(at('2026-01-01T09:00:00Z')), '2026-01-01T09:00:00Z');
    assert.equal(formatInZone(at('2026-01-01T09:00:00Z'), 'Asia/Kolkata'), '2026-01-01T14:30:00+05:30');
  });

  test('refused: wrong field counts, extensions, unknown zones', () => {
    for (const bad of ['', '* * * *', '0 * * * * *', '0 0 L * *', '0 0 * * 5#2', '0 0 * * 7', '0 0 * * 1-7', '@every 5m']) assert.equal(parseSchedule(bad).ok, false, bad);
    assert.equal(parseSchedule('* * * * *', 'Mars/Olympus').ok, false);
    assert.equal(parseSchedule('0 0 * * */2').ok, true);
    assert.equal(parseSchedule('0 0 * * 0-6/3').ok, true);
  });
});

describe('most recent unmet start time', () => {
  const every5 = schedule('*/5 * * * *');

  test('none before the first start time after creation', () => {
    const due = mostRecentStart(cronJob(), every5, at('2026-01-01T00:04:00Z'));
    assert.deepEqual(due, { earliestMs: at('2026-01-01T00:00:00Z'), missed: 0 });
  });

  test('the one start time that passed', () => {
    const due = mostRecentStart(cronJob(), every5, at('2026-01-01T00:05:00Z'));
    assert.equal(iso(due.mostRecentMs), '2026-01-01T00:05:00.000Z');
    assert.equal(due.missed, 1);
  });

  test('after an outage, the latest of the missed ones', () => {
    const due = mostRecentStart(cronJob({}, { lastScheduleTime: '2026-01-01T00:05:00Z' }), every5, at('2026-01-01T01:02:00Z'));
    assert.equal(iso(due.mostRecentMs), '2026-01-01T01:00:00.000Z');
    assert.equal(due.missed, 11);
  });

  test('an irregular schedule still finds the latest start', () => {
    const due = mostRecentStart(cronJob(), schedule('0 0 1,2 * *'), at('2026-03-01T12:00:00Z'));
    assert.equal(iso(due.mostRecentMs), '2026-03-01T00:00:00.000Z');
  });

  test('more than 100 missed starts are reported as too many', () => {
    const due = mostRecentStart(cronJob({}, {}, '2025-12-01T00:00:00Z'), every5, at('2026-01-01T00:07:00Z'));
    assert.ok(due.missed > MAX_MISSED_START_TIMES);
    assert.equal(iso(due.mostRecentMs), '2026-01-01T00:05:00.000Z');
  });

  test('startingDeadlineSeconds bounds how far back to look', () => {
    const cj = cronJob({ startingDeadlineSeconds: 200 }, {}, '2025-12-01T00:00:00Z');
    const due = mostRecentStart(cj, every5, at('2026-01-01T00:07:00Z'));
    assert.equal(due.missed, 1);
    assert.equal(iso(due.mostRecentMs), '2026-01-01T00:05:00.000Z');
    // Nothing within the last 60 s: no start.
    const short = cronJob({ startingDeadlineSeconds: 60 }, {}, '2025-12-01T00:00:00Z');
    assert.equal(mostRecentStart(short, every5, at('2026-01-01T00:07:00Z')).mostRecentMs, undefined);
  });

  test('too late once the deadline passed', () => {
    const cj = cronJob({ startingDeadlineSeconds: 30 });
    assert.equal(isTooLate(cj, at('2026-01-01T00:05:00Z'), at('2026-01-01T00:05:20Z')), false);
    assert.equal(isTooLate(cj, at('2026-01-01T00:05:00Z'), at('2026-01-01T00:05:31Z')), true);
    assert.equal(isTooLate(cronJob(), at('2026-01-01T00:05:00Z'), at('2026-02-01T00:00:00Z')), false);
  });

  test('requeue for the next start time', () => {
    assert.equal(untilNextStart(every5, at('2026-01-01T00:03:00Z')), 2 * 60_000 + 100);
  });
});

describe('the Jobs of a CronJob', () => {
  test('named after the start time in minutes, owned, annotated, labelled from the template', () => {
    const cj = cronJob({ timeZone: 'Europe/Paris', jobTemplate: { metadata: { labels: { app: 'hello' }, annotations: { a: 'b' } }, spec: { template: {} } } }) as CronJobObject;
    const job = jobForStart(cj, at('2026-01-01T00:05:00Z'));
    assert.equal(jobNameFor('hello', at('2026-01-01T00:05:00Z')), `hello-${at('2026-01-01T00:05:00Z') / 60_000}`);
    assert.equal(job.metadata?.name, `hello-${at('2026-01-01T00:05:00Z') / 60_000}`);
    assert.deepEqual(job.metadata?.labels, { app: 'hello' });
    assert.deepEqual(job.metadata?.annotations, { a: 'b', [SCHEDULED_TIMESTAMP_ANNOTATION]: '2026-01-01T01:05:00+01:00' });
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
  });

  test('history limits remove the oldest finished Jobs of each kind', () => {
    const job = (name: string, end: 'Complete' | 'Failed' | undefined, start: string): JobObject => ({
      metadata: { name },
      status: { startTime: start, conditions: end ? [{ type: end, status: 'True' }] : [] },
    });
    const jobs = [
      job('ok-3', 'Complete', '2026-01-01T03:00:00Z'),
      job('ok-1', 'Complete', '2026-01-01T01:00:00Z'),
      job('ok-2', 'Complete', '2026-01-01T02:00:00Z'),
      job('bad-1', 'Failed', '2026-01-01T01:30:00Z'),
      job('bad-2', 'Failed', '2026-01-01T02:30:00Z'),
      job('running', undefined, '2026-01-01T00:00:00Z'),
    ];
    const names = (cj: CronJob) => jobsBeyondHistory(cj, jobs).map((j) => j.metadata?.name);
    assert.deepEqual(names(cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 })), ['ok-1', 'ok-2', 'bad-1']);
    assert.deepEqual(names(cronJob({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 })), ['ok-1', 'ok-2', 'ok-3', 'bad-1', 'bad-2']);
    assert.deepEqual(names(cronJob({})), []);
  });
});
