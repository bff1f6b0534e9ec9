// CronJob validation and defaulting as kube-apiserver applies them: the schedule and time zone,
// the enums and limits, the 52-character name and the Job template checked as a Job's spec.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, prepared, resource, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const CRONJOB = resource('batch', 'CronJob');

function cronJob(): Loose {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: { metadata: { labels: { app: 'hello' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox' }] } } } },
    },
  };
}

describe('CronJob defaults', () => {
  test('the CronJob and the pod template in its Job template get Kubernetes defaults; the Job fields wait for the Job', () => {
    const spec = prepared(CRONJOB, cronJob()).spec;
    assert.equal(spec.concurrencyPolicy, 'Allow');
    assert.equal(spec.suspend, false);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 1);
    const jobSpec = spec.jobTemplate.spec;
    assert.deepEqual([jobSpec.completions, jobSpec.parallelism, jobSpec.backoffLimit, jobSpec.completionMode], [undefined, undefined, undefined, undefined]);
    assert.equal(jobSpec.template.spec.dnsPolicy, 'ClusterFirst');
    // A template is not a Job: its metadata gets no labels copied from the pod template.
    assert.deepEqual(spec.jobTemplate.metadata, { labels: { app: 'hello' } });
  });

  test('what the user set is kept', () => {
    const written = changed(cronJob(), (c) => Object.assign(c.spec, { concurrencyPolicy: 'Forbid', suspend: true, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5 }));
    const spec = prepared(CRONJOB, written).spec;
    assert.deepEqual([spec.concurrencyPolicy, spec.suspend, spec.successfulJobsHistoryLimit, spec.failedJobsHistoryLimit], ['Forbid', true, 0, 5]);
  });
});

describe('CronJob validation', () => {
  test('a defaulted CronJob is valid, with every macro and a time zone', () => {
    assert.deepEqual(createErrors(CRONJOB, cronJob()), []);
    for (const macro of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']) {
      assert.deepEqual(createErrors(CRONJOB, changed(cronJob(), (c) => (c.spec.schedule = macro))), [], macro);
    }
    assert.deepEqual(createErrors(CRONJOB, changed(cronJob(), (c) => (c.spec.timeZone = 'America/New_York'))), []);
    assert.deepEqual(createErrors(CRONJOB, changed(cronJob(), (c) => (c.spec.schedule = '0 9 * * MON-FRI'))), []);
  });

  const cases: { name: string; change: (c: Loose) => void; expect: string[] }[] = [
    { name: 'a schedule is required', change: (c) => delete c.spec.schedule, expect: ['spec.schedule: Required value'] },
    { name: 'five fields', change: (c) => (c.spec.schedule = '* * * *'), expect: ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: * * * *'] },
    { name: 'no seconds field', change: (c) => (c.spec.schedule = '0 * * * * *'), expect: ['spec.schedule: Invalid value: "0 * * * * *": expected exactly 5 fields, found 6: 0 * * * * *'] },
    { name: 'an unknown macro', change: (c) => (c.spec.schedule = '@sometimes'), expect: ['spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes'] },
    { name: 'a minute out of range', change: (c) => (c.spec.schedule = '61 * * * *'), expect: ['spec.schedule: Invalid value: "61 * * * *": '] },
    {
      name: 'TZ inside the schedule',
      change: (c) => (c.spec.schedule = 'TZ=Europe/Paris 0 9 * * *'),
      expect: ['spec.schedule: Invalid value: "TZ=Europe/Paris 0 9 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    },
    { name: 'an unknown time zone', change: (c) => (c.spec.timeZone = 'Mars/Olympus'), expect: ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'] },
    { name: 'Local is not a time zone', change: (c) => (c.spec.timeZone = 'Local'), expect: ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'] },
    { name: 'an empty time zone', change: (c) => (c.spec.timeZone = ''), expect: ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string'] },
    { name: 'concurrency policies', change: (c) => (c.spec.concurrencyPolicy = 'Sometimes'), expect: ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'] },
    {
      name: 'limits and deadline are not negative',
      change: (c) => Object.assign(c.spec, { startingDeadlineSeconds: -1, successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -2 }),
      expect: [
        'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
        'spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0',
      ],
    },
    {
      name: 'the Job template is validated like a Job',
      change: (c) => (c.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always'),
      expect: ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    },
    {
      name: 'names leave room for the Job suffix',
      change: (c) => (c.metadata.name = 'a'.repeat(53)),
      expect: [`metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`],
    },
  ];
  for (const { name, change, expect } of cases) {
    test(name, () => {
      const errs = createErrors(CRONJOB, changed(cronJob(), change));
      assert.equal(errs.length, expect.length, errs.join('\n'));
      expect.forEach((e, i) => assert.ok(errs[i]?.startsWith(e), `${errs[i]} should start with ${e}`));
    });
  }

  test('an update may keep a TZ prefix an older server accepted, not add one', () => {
    const old = changed(cronJob(), (c) => (c.spec.schedule = 'CRON_TZ=UTC 0 9 * * *'));
    assert.deepEqual(updateErrors(CRONJOB, changed(old, (c) => (c.spec.suspend = true)), old), []);
    const both = updateErrors(CRONJOB, changed(old, (c) => (c.spec.timeZone = 'UTC')), old);
    assert.deepEqual(both, ['spec.schedule: Invalid value: "CRON_TZ=UTC 0 9 * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule']);
    const added = updateErrors(CRONJOB, changed(cronJob(), (c) => (c.spec.schedule = 'TZ=UTC 0 9 * * *')), cronJob());
    assert.equal(added.length, 1);
  });
});
