// The CronJob controller against a real API server, with a clock the test moves: a due start
// time creates exactly one Job, the concurrency policies, suspend, history limits and status,
// and what kubectl does with CronJobs (get, create cronjob, create job --from). The test plays
// the Job controller by writing the Jobs' status.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { parseSchedule } from '../../api/cron.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { kubeTime } from '../../api/time.js';
import { CronJobController } from '../../controlplane/controllers/cronjob/controller.js';
import { SCHEDULED_TIMESTAMP_ANNOTATION } from '../../controlplane/controllers/cronjob/jobs.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const cronJobs = resourceFor('batch', 'cronjobs');
const jobs = resourceFor('batch', 'jobs');
const events = resourceFor('', 'events');
const SCHEDULE = '*/5 * * * *';

function cronJob(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: SCHEDULE,
      ...spec,
      jobTemplate: {
        metadata: { labels: { cron: name } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
    },
  };
}

describe('CronJob controller', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;
  let nowMs = Date.now();
  let ticks = 0;

  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new CronJobController({ now: () => nowMs })]);
    client = run.client;
  });
  after(async () => {
    await run?.stop();
    await c?.close();
  });

  /** Creates the CronJob with the clock at its creation; returns its start times after that. */
  async function create(name: string, spec: Record<string, unknown> = {}): Promise<number[]> {
    nowMs = Date.now();
    const created = await client.create(cronJobs, 'default', cronJob(name, spec));
    const parsed = parseSchedule(SCHEDULE);
    assert.ok(parsed.ok);
    const starts: number[] = [];
    let t = Date.parse(created.metadata!.creationTimestamp!);
    for (let i = 0; i < 4; i++) starts.push((t = parsed.schedule.next(t)!));
    return starts;
  }

  /** Moves the clock and makes the controller look (as its requeue timer would). */
  async function moveClockTo(ms: number, name: string): Promise<void> {
    nowMs = ms;
    await client.patch(cronJobs, 'default', name, { metadata: { annotations: { 'test/tick': String(++ticks) } } }, 'merge');
  }

  async function jobsOf(name: string): Promise<KubeObject[]> {
    const list = await client.list(jobs, 'default', { labelSelector: `cron=${name}` });
    return list.items.filter((j) => !j.metadata?.deletionTimestamp).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  }

  async function status(name: string): Promise<any> {
    return (await client.get(cronJobs, 'default', name))['status'] ?? {};
  }

  async function reasons(name: string): Promise<string[]> {
    const list = await client.list(events, 'default');
    return list.items.filter((e: any) => e.involvedObject?.name === name).map((e: any) => `${e.reason}: ${e.message}`);
  }

  async function finish(job: KubeObject, end: 'Complete' | 'Failed', atMs: number): Promise<void> {
    const fresh = await client.get(jobs, 'default', job.metadata!.name!);
    const when = kubeTime(atMs);
    const status: Record<string, unknown> = { startTime: when, conditions: [{ type: end, status: 'True', lastTransitionTime: when, lastProbeTime: when }] };
    if (end === 'Complete') status['completionTime'] = when;
    await client.updateStatus(jobs, 'default', { ...fresh, status });
  }

  test('a due start time creates exactly one Job, and the status says so', async () => {
    const [first] = await create('due');
    await moveClockTo(first! - 10_000, 'due');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobsOf('due')).length, 0, 'nothing before the start time');

    await moveClockTo(first! + 1000, 'due');
    const [job] = await eventually(async () => {
      const list = await jobsOf('due');
      return list.length > 0 ? list : undefined;
    });
    assert.equal(job!.metadata!.name, `due-${first! / 60_000}`);
    assert.equal(job!.metadata!.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], kubeTime(first!));
    assert.deepEqual(job!.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [['CronJob', 'due', true]]);
    const s = await eventually(async () => {
      const st = await status('due');
      return st.lastScheduleTime ? st : undefined;
    });
    assert.equal(s.lastScheduleTime, kubeTime(first!));
    assert.deepEqual(
      s.active.map((r: any) => [r.kind, r.name, r.uid]),
      [['Job', job!.metadata!.name, job!.metadata!.uid]],
    );
    // Syncing again at the same moment changes nothing.
    await moveClockTo(first! + 2000, 'due');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobsOf('due')).length, 1);
    const seen = await eventually(async () => {
      const r = await reasons('due');
      return r.includes(`SuccessfulCreate: Created job ${job!.metadata!.name}`) ? r : undefined;
    });
    assert.ok(!seen.some((r) => r.startsWith('UnexpectedJob')), seen.join('\n'));
  });

  test('Forbid skips a start while a Job runs; Allow runs them side by side', async () => {
    const [a1, a2] = await create('forbid', { concurrencyPolicy: 'Forbid' });
    await moveClockTo(a1! + 1000, 'forbid');
    await eventually(async () => ((await jobsOf('forbid')).length === 1 ? true : undefined));
    await moveClockTo(a2! + 1000, 'forbid');
    await eventually(async () => ((await reasons('forbid')).some((r) => r.startsWith('JobAlreadyActive')) ? true : undefined));
    assert.equal((await jobsOf('forbid')).length, 1);

    const [b1, b2] = await create('allow');
    await moveClockTo(b1! + 1000, 'allow');
    await eventually(async () => ((await jobsOf('allow')).length === 1 ? true : undefined));
    await moveClockTo(b2! + 1000, 'allow');
    await eventually(async () => ((await jobsOf('allow')).length === 2 ? true : undefined));
    await eventually(async () => ((await status('allow')).active?.length === 2 ? true : undefined));
  });

  test('Replace deletes the running Job and starts the new one', async () => {
    const [r1, r2] = await create('replace', { concurrencyPolicy: 'Replace' });
    await moveClockTo(r1! + 1000, 'replace');
    const [old] = await eventually(async () => {
      const list = await jobsOf('replace');
      return list.length === 1 ? list : undefined;
    });
    await moveClockTo(r2! + 1000, 'replace');
    const [next] = await eventually(async () => {
      const list = await jobsOf('replace');
      return list.length === 1 && list[0]!.metadata!.name !== old!.metadata!.name ? list : undefined;
    });
    assert.equal(next!.metadata!.name, `replace-${r2! / 60_000}`);
    await eventually(async () => ((await reasons('replace')).includes(`SuccessfulDelete: Deleted job ${old!.metadata!.name}`) ? true : undefined));
    const s = await eventually(async () => {
      const st = await status('replace');
      return st.active?.length === 1 && st.active[0].name === next!.metadata!.name ? st : undefined;
    });
    assert.equal(s.lastScheduleTime, kubeTime(r2!));
  });

  test('a suspended CronJob starts nothing', async () => {
    const [s1] = await create('suspended', { suspend: true });
    await moveClockTo(s1! + 1000, 'suspended');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await jobsOf('suspended')).length, 0);
  });

  test('finished Jobs leave status.active and only the history limits remain', async () => {
    const starts = await create('history', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 });
    const made: KubeObject[] = [];
    for (const start of starts.slice(0, 3)) {
      await moveClockTo(start + 1000, 'history');
      const list = await eventually(async () => {
        const l = await jobsOf('history');
        return l.some((j) => j.metadata!.name === `history-${start / 60_000}`) ? l : undefined;
      });
      const job = list.find((j) => j.metadata!.name === `history-${start / 60_000}`)!;
      made.push(job);
      await finish(job, start === starts[1] ? 'Failed' : 'Complete', start + 30_000);
    }
    // Two succeeded (the first and third), one failed: the oldest success goes.
    await eventually(async () => {
      const names = (await jobsOf('history')).map((j) => j.metadata!.name);
      return names.length === 2 && !names.includes(made[0]!.metadata!.name!) ? true : undefined;
    });
    const s = await eventually(async () => {
      const st = await status('history');
      return !st.active?.length && st.lastSuccessfulTime === kubeTime(starts[2]! + 30_000) ? st : undefined;
    });
    assert.equal(s.lastScheduleTime, kubeTime(starts[2]!));
    // Events are written in the background, after the status.
    const expected = [`SawCompletedJob: Saw completed job: ${made[1]!.metadata!.name}, condition: Failed`, `SuccessfulDelete: Deleted job ${made[0]!.metadata!.name}`];
    await eventually(async () => {
      const seen = await reasons('history');
      return expected.every((r) => seen.includes(r)) ? true : undefined;
    }, 10_000, expected.join(', '));
  });

  test('a start time past startingDeadlineSeconds is missed, with a warning', async () => {
    const [m1] = await create('late', { startingDeadlineSeconds: 10 });
    // The controller looks only 10 s back: 30 s after the start time there is nothing to start.
    await moveClockTo(m1! + 30_000, 'late');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await jobsOf('late')).length, 0);
    await moveClockTo(m1! + 5_000, 'late');
    await eventually(async () => ((await jobsOf('late')).length === 1 ? true : undefined));
  });

  test('kubectl creates and lists CronJobs, and creates a Job from one', async () => {
    nowMs = Date.now();
    const created = await c.kubectl(['create', 'cronjob', 'hello', '--image=busybox', '--schedule=*/5 * * * *']);
    assert.equal(created.code, 0, created.stderr);
    const got = await c.kubectl(['get', 'cronjobs']);
    assert.equal(got.code, 0, got.stderr);
    const [header, row] = got.stdout.trim().split('\n').filter((l) => l.startsWith('NAME') || l.startsWith('hello '));
    assert.match(header!, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/);
    assert.match(row!, /^hello\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/);
    const wide = await c.kubectl(['get', 'cj', 'hello', '-o', 'wide']);
    assert.match(wide.stdout.split('\n')[0]!, /CONTAINERS\s+IMAGES\s+SELECTOR$/);
    const manual = await c.kubectl(['create', 'job', 'manual', '--from=cronjob/hello']);
    assert.equal(manual.code, 0, manual.stderr);
    const job = await client.get(jobs, 'default', 'manual');
    assert.equal(job.metadata!.annotations!['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(job.metadata!.ownerReferences![0]!.name, 'hello');
  });

  test('a bad schedule is refused with 422 naming spec.schedule', async () => {
    const res = await c.api('POST', '/apis/batch/v1/namespaces/default/cronjobs', { body: { ...cronJob('bad'), spec: { ...(cronJob('bad')['spec'] as object), schedule: 'every minute' } } });
    assert.equal(res.status, 422);
    assert.deepEqual(
      (res.body as any).details.causes.map((cause: any) => cause.field),
      ['spec.schedule'],
    );
    const kubectl = await c.kubectl(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *']);
    assert.notEqual(kubectl.code, 0);
    assert.match(kubectl.stderr, /spec\.schedule: Invalid value/);
  });
});
