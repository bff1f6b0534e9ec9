// The Job controller against a real API server: completions and parallelism, backoffLimit with
// restartPolicy Never and OnFailure, activeDeadlineSeconds, the interim and terminal conditions,
// the tracking finalizer, suspension, surplus pods that do not count, and finalizers released
// when a Job is deleted.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { JobController } from '../../controlplane/controllers/job/controller.js';
import { eventually } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { listPods, setPodStatus, sleep, startSimulatedCluster } from './workload-harness.js';
import type { SimulatedCluster } from './workload-harness.js';

const jobs = resourceFor('batch', 'jobs');
const events = resourceFor('', 'events');

function job(name: string, spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: { metadata: { labels: { task: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }], ...podSpec } },
    },
  };
}

async function jobStatus(client: KubeClient, name: string): Promise<any> {
  return (await client.get(jobs, 'default', name))['status'] ?? {};
}

function condition(status: any, type: string): any {
  return (status.conditions ?? []).find((c: any) => c.type === type);
}

function isActive(pod: KubeObject): boolean {
  return !pod.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes((pod['status'] as any)?.phase);
}

describe('Job controller', () => {
  let c: TestCluster;
  let client: KubeClient;
  let t: SimulatedCluster;
  const failedOnce = new Set<string>();
  before(async () => {
    // Pods of jobs named fail-* fail, run-* run until stopped, the others succeed.
    ({ c, client } = t = await startSimulatedCluster([new JobController({ podFailureBackoffMs: 100 })], { 'node-a': {} }, {
      nodes: ['node-a'],
      readyAfterMs: 100,
      runForMs: 300,
      finish: (p) => {
        const name = p.metadata!.labels!['task'] ?? '';
        if (name.startsWith('run-')) return undefined;
        // Indexed jobs named idx-*: the first pod of index 1 fails.
        const index = p.metadata!.annotations?.['batch.kubernetes.io/job-completion-index'];
        if (name.startsWith('idx-') && index === '1' && !failedOnce.has(name)) {
          failedOnce.add(name);
          return 'Failed';
        }
        return name.startsWith('fail-') ? 'Failed' : 'Succeeded';
      },
    }));
  });
  after(async () => {
    await t.close();
  });

  test('runs completions pods, at most parallelism at a time, then completes', async () => {
    await client.create(jobs, 'default', job('count', { completions: 3, parallelism: 2 }));
    let maxActive = 0;
    const status = await eventually(async () => {
      const pods = await listPods(client, 'default', 'task=count');
      maxActive = Math.max(maxActive, pods.filter(isActive).length);
      const s = await jobStatus(client, 'count');
      return condition(s, 'Complete')?.status === 'True' ? s : undefined;
    }, 20_000, 'Complete');
    assert.ok(maxActive <= 2, `${maxActive} active pods at once`);
    assert.equal(status.succeeded, 3);
    assert.equal(status.failed ?? 0, 0);
    assert.equal(status.active ?? 0, 0);
    assert.ok(status.startTime && status.completionTime);
    assert.deepEqual(status.uncountedTerminatedPods, {});
    assert.equal(status.ready, 0);
    assert.equal(status.terminating, 0);
    assert.equal(condition(status, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
    assert.equal(condition(status, 'Complete').reason, 'CompletionsReached');
    assert.equal(condition(status, 'Complete').message, 'Reached expected number of succeeded pods');
    const pods = await listPods(client, 'default', 'task=count');
    assert.equal(pods.length, 3, 'no extra pod was started');
    for (const pod of pods) {
      assert.match(pod.metadata!.name!, /^count-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.metadata!.labels!['batch.kubernetes.io/job-name'], 'count');
      assert.ok(!(pod.metadata!.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'), 'finalizer released');
      assert.equal(pod.metadata!.ownerReferences![0]!.kind, 'Job');
    }
    const completed = await eventually(async () => {
      const list = (await client.list(events, 'default', { fieldSelector: 'involvedObject.name=count,reason=Completed' })).items;
      return list.length > 0 ? list : undefined;
    }, 5_000, 'Completed event');
    assert.equal(completed[0]!['message'], 'Job completed');
    const get = await c.kubectl(['get', 'job', 'count']);
    assert.match(get.stdout, /count\s+Complete\s+3\/3/);
  });

  test('an Indexed Job runs every index, retries a failed index, and records completedIndexes', async () => {
    await client.create(jobs, 'default', job('idx-a', { completions: 4, parallelism: 2, completionMode: 'Indexed' }));
    let maxActive = 0;
    const status = await eventually(async () => {
      const pods = await listPods(client, 'default', 'task=idx-a');
      maxActive = Math.max(maxActive, pods.filter(isActive).length);
      const s = await jobStatus(client, 'idx-a');
      return condition(s, 'Complete')?.status === 'True' ? s : undefined;
    }, 30_000, 'Complete');
    assert.ok(maxActive <= 2, `${maxActive} active pods at once`);
    assert.equal(status.completedIndexes, '0-3');
    assert.equal(status.succeeded, 4);
    assert.equal(status.failed, 1);
    const pods = await listPods(client, 'default', 'task=idx-a');
    const byIndex = new Map<string, KubeObject[]>();
    for (const pod of pods) {
      const index = pod.metadata!.annotations!['batch.kubernetes.io/job-completion-index']!;
      byIndex.set(index, [...(byIndex.get(index) ?? []), pod]);
      assert.equal(pod.metadata!.labels!['batch.kubernetes.io/job-completion-index'], index);
      assert.match(pod.metadata!.name!, new RegExp(`^idx-a-${index}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      const spec = pod['spec'] as any;
      assert.equal(spec.hostname, `idx-a-${index}`);
      assert.deepEqual(spec.containers[0].env, [
        { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } },
      ]);
    }
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2', '3']);
    assert.equal(byIndex.get('1')!.length, 2, 'index 1 failed once and ran again');
    for (const i of ['0', '2', '3']) assert.equal(byIndex.get(i)!.length, 1, `index ${i} ran once`);
  });

  test('a failing Job with restartPolicy Never stops at backoffLimit', async () => {
    await client.create(jobs, 'default', job('fail-never', { backoffLimit: 2 }));
    const status = await eventually(async () => {
      const s = await jobStatus(client, 'fail-never');
      return condition(s, 'Failed')?.status === 'True' ? s : undefined;
    }, 20_000, 'Failed');
    assert.equal(condition(status, 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(condition(status, 'Failed').message, 'Job has reached the specified backoff limit');
    assert.equal(condition(status, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(status.failed, 3, 'backoffLimit 2: the third failure ends it');
    assert.equal(status.completionTime, undefined);
    await sleep(500);
    assert.equal((await listPods(client, 'default', 'task=fail-never')).length, 3, 'no pod after the limit');
    const warning = await eventually(async () => {
      const items = (await client.list(events, 'default', { fieldSelector: 'involvedObject.name=fail-never,reason=BackoffLimitExceeded' })).items;
      return items.length > 0 ? items : undefined;
    }, 10_000, 'the BackoffLimitExceeded event');
    assert.equal(warning[0]?.['type'], 'Warning');
  });

  test('with restartPolicy OnFailure container restarts count against backoffLimit', async () => {
    await client.create(jobs, 'default', job('run-restarts', { backoffLimit: 2 }, { restartPolicy: 'OnFailure' }));
    const [pod] = await eventually(async () => {
      const pods = (await listPods(client, 'default', 'task=run-restarts')).filter((p) => (p['status'] as any)?.phase === 'Running');
      return pods.length === 1 ? pods : undefined;
    }, 10_000, 'a running pod');
    await setPodStatus(client, 'default', pod!.metadata!.name!, { ready: false, restartCount: 2 });
    const status = await eventually(async () => {
      const s = await jobStatus(client, 'run-restarts');
      return condition(s, 'Failed')?.status === 'True' ? s : undefined;
    }, 10_000, 'Failed');
    assert.equal(condition(status, 'Failed').reason, 'BackoffLimitExceeded');
    // The still-running pod was stopped (and counted as failed).
    assert.equal(status.active ?? 0, 0);
    assert.equal(status.failed, 1);
    assert.equal((await listPods(client, 'default', 'task=run-restarts')).length, 0);
  });

  test('activeDeadlineSeconds stops a Job that runs too long', async () => {
    // startTime is in whole seconds, so the deadline may come up to 1 s early: 4 s leaves time to see both pods run.
    await client.create(jobs, 'default', job('run-forever', { parallelism: 2, completions: 4, activeDeadlineSeconds: 4 }));
    await eventually(async () => ((await listPods(client, 'default', 'task=run-forever')).filter(isActive).length === 2 ? true : undefined), 10_000, 'two running pods');
    const status = await eventually(async () => {
      const s = await jobStatus(client, 'run-forever');
      return condition(s, 'Failed')?.status === 'True' ? s : undefined;
    }, 10_000, 'Failed');
    assert.equal(condition(status, 'Failed').reason, 'DeadlineExceeded');
    assert.equal(condition(status, 'Failed').message, 'Job was active longer than specified deadline');
    assert.equal(status.failed, 2);
    assert.equal((await listPods(client, 'default', 'task=run-forever')).length, 0, 'its pods were deleted');
  });

  test('without completions the first success ends the Job', async () => {
    await client.create(jobs, 'default', job('queue', { parallelism: 2 }));
    const status = await eventually(async () => {
      const s = await jobStatus(client, 'queue');
      return condition(s, 'Complete')?.status === 'True' ? s : undefined;
    }, 20_000, 'Complete');
    assert.equal(status.succeeded, 2, 'both workers finished');
    assert.equal((await listPods(client, 'default', 'task=queue')).length, 2);
  });

  test('a suspended Job runs no pods until resumed', async () => {
    await client.create(jobs, 'default', job('later', { suspend: true }));
    const suspended = await eventually(async () => {
      const s = await jobStatus(client, 'later');
      return condition(s, 'Suspended')?.status === 'True' ? s : undefined;
    }, 10_000, 'Suspended');
    assert.equal(condition(suspended, 'Suspended').reason, 'JobSuspended');
    assert.equal(suspended.startTime, undefined);
    assert.equal((await listPods(client, 'default', 'task=later')).length, 0);
    await client.patch(jobs, 'default', 'later', { spec: { suspend: false } });
    const done = await eventually(async () => {
      const s = await jobStatus(client, 'later');
      return condition(s, 'Complete')?.status === 'True' ? s : undefined;
    }, 20_000, 'Complete after resume');
    assert.equal(condition(done, 'Suspended').status, 'False');
    assert.equal(condition(done, 'Suspended').reason, 'JobResumed');
  });

  test('lowering parallelism deletes the surplus pods, which count neither as failed nor as succeeded', async () => {
    await client.create(jobs, 'default', job('run-surplus', { parallelism: 3 }));
    await eventually(async () => {
      const pods = await listPods(client, 'default', 'task=run-surplus');
      return pods.filter((p) => (p['status'] as any)?.phase === 'Running').length === 3 ? true : undefined;
    }, 10_000, 'three running pods');
    await client.patch(jobs, 'default', 'run-surplus', { spec: { parallelism: 1 } });
    await eventually(async () => ((await listPods(client, 'default', 'task=run-surplus')).length === 1 ? true : undefined), 10_000, 'the surplus pods gone');
    // Give the controller time to (wrongly) count them.
    await sleep(500);
    const status = await jobStatus(client, 'run-surplus');
    assert.equal(status.active, 1);
    assert.equal(status.failed, undefined);
    assert.equal(status.succeeded, undefined);
    assert.deepEqual(status.uncountedTerminatedPods ?? {}, {});
    await client.delete(jobs, 'default', 'run-surplus', { propagationPolicy: 'Orphan' });
  });

  test('deleting a Job releases its pods\' tracking finalizers', async () => {
    await client.create(jobs, 'default', job('run-orphaned', { parallelism: 1 }));
    const [pod] = await eventually(async () => {
      const pods = await listPods(client, 'default', 'task=run-orphaned');
      return pods.length === 1 && (pods[0]!['status'] as any)?.phase === 'Running' ? pods : undefined;
    }, 10_000, 'a running pod');
    assert.ok(pod!.metadata!.finalizers!.includes('batch.kubernetes.io/job-tracking'));
    // No garbage collector runs here: the pod stays, but must not keep the finalizer.
    await client.delete(jobs, 'default', 'run-orphaned', { propagationPolicy: 'Orphan' });
    await eventually(async () => {
      const [p] = await listPods(client, 'default', 'task=run-orphaned');
      return p && !(p.metadata!.finalizers ?? []).includes('batch.kubernetes.io/job-tracking') ? true : undefined;
    }, 10_000, 'finalizer removed');
  });
});
