// A Job's podFailurePolicy against a real API server, the test playing the agent (it ends pods
// with the exit codes it chooses): a FailJob rule fails the Job with FailureTarget and then
// Failed and stops the other pods; an Ignore rule on DisruptionTarget lets a pod evicted through
// the Eviction API be replaced without using up backoffLimit; Count, and failures no rule
// matches, count as before.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { kubeTime } from '../../api/time.js';
import { JobController } from '../../controlplane/controllers/job/controller.js';
import { eventually } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { listPods, podsResource, sleep, startSimulatedCluster } from './workload-harness.js';
import type { SimulatedCluster } from './workload-harness.js';

const jobs = resourceFor('batch', 'jobs');
const events = resourceFor('', 'events');
const NS = 'default';
const TRACKING = 'batch.kubernetes.io/job-tracking';
const ignoreDisruptions = { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] };

function job(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: { metadata: { labels: { task: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  };
}

async function jobStatus(client: KubeClient, name: string): Promise<any> {
  return (await client.get(jobs, NS, name))['status'] ?? {};
}

function condition(status: any, type: string): any {
  return (status.conditions ?? []).find((c: any) => c.type === type);
}

const phaseOf = (pod: KubeObject) => (pod['status'] as any)?.phase as string | undefined;

/** The job's pods that are running and not being deleted, once there are `count` of them. */
function running(client: KubeClient, name: string, count: number): Promise<KubeObject[]> {
  return eventually(async () => {
    const pods = (await listPods(client, NS, `task=${name}`)).filter((p) => phaseOf(p) === 'Running' && !p.metadata?.deletionTimestamp);
    return pods.length === count ? pods : undefined;
  }, 10_000, `${count} running pods of ${name}`);
}

/**
 * Ends a pod as the agent would: terminal phase, every container terminated with `exitCode`,
 * not ready, the other conditions (DisruptionTarget…) kept.
 */
async function endPod(client: KubeClient, name: string, exitCode: number): Promise<void> {
  const pod = await client.get(podsResource, NS, name);
  const status = (pod['status'] ?? {}) as any;
  const now = kubeTime();
  const conditions = (status.conditions ?? []).map((c: any) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: now } : c));
  const containerStatuses = ((pod['spec'] as any).containers as { name: string }[]).map((c) => ({
    name: c.name,
    image: 'busybox',
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
  }));
  await client.updateStatus(podsResource, NS, { ...pod, status: { ...status, phase: exitCode === 0 ? 'Succeeded' : 'Failed', conditions, containerStatuses } });
}

describe('Job podFailurePolicy', () => {
  let c: TestCluster;
  let client: KubeClient;
  let t: SimulatedCluster;
  before(async () => {
    // Pods run until the test ends them; a deleted pod takes a second to go, long enough to see
    // the Job wait for it.
    ({ c, client } = t = await startSimulatedCluster([new JobController({ podFailureBackoffMs: 100 })], { 'node-a': {} }, { nodes: ['node-a'], readyAfterMs: 100, terminateAfterMs: 1000 }));
  });
  after(async () => {
    await t.close();
  });

  test('a FailJob rule fails the Job: FailureTarget at once, the other pods deleted, then Failed', async () => {
    await client.create(jobs, NS, job('fail-job', { completions: 2, parallelism: 2, podFailurePolicy: { rules: [ignoreDisruptions, { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } }] } }));
    const [culprit, other] = await running(client, 'fail-job', 2);
    await endPod(client, culprit!.metadata!.name!, 42);
    const message = `Container c for pod ${NS}/${culprit!.metadata!.name} failed with exit code 42 matching FailJob rule at index 1`;

    // While the other pod terminates, the Job has its interim condition only.
    const interim = await eventually(async () => {
      const s = await jobStatus(client, 'fail-job');
      return condition(s, 'FailureTarget') ? s : undefined;
    }, 10_000, 'FailureTarget');
    assert.equal(condition(interim, 'Failed'), undefined, 'Failed waits for the pods');
    assert.deepEqual([condition(interim, 'FailureTarget').status, condition(interim, 'FailureTarget').reason, condition(interim, 'FailureTarget').message], ['True', 'PodFailurePolicy', message]);
    assert.ok((await client.get(podsResource, NS, other!.metadata!.name!)).metadata?.deletionTimestamp, 'the other pod is being deleted');

    const status = await eventually(async () => {
      const s = await jobStatus(client, 'fail-job');
      return condition(s, 'Failed')?.status === 'True' ? s : undefined;
    }, 10_000, 'Failed');
    assert.deepEqual([condition(status, 'Failed').reason, condition(status, 'Failed').message], ['PodFailurePolicy', message]);
    assert.equal(condition(status, 'FailureTarget').status, 'True');
    assert.equal(status.failed, 2, 'the pod that failed and the one stopped');
    assert.equal(status.active ?? 0, 0);
    assert.equal(status.terminating, 0);
    assert.deepEqual(status.uncountedTerminatedPods, {});
    assert.equal(status.completionTime, undefined);
    await sleep(300);
    const pods = await listPods(client, NS, 'task=fail-job');
    assert.deepEqual(pods.map((p) => p.metadata!.name), [culprit!.metadata!.name], 'the stopped pod is gone, no new one started');
    assert.ok(!(pods[0]!.metadata!.finalizers ?? []).includes(TRACKING));
    const warning = await eventually(async () => {
      const items = (await client.list(events, NS, { fieldSelector: 'involvedObject.name=fail-job,reason=PodFailurePolicy' })).items;
      return items.length > 0 ? items : undefined;
    }, 10_000, 'the PodFailurePolicy event');
    assert.deepEqual([warning[0]?.['type'], warning[0]?.['message']], ['Warning', message]);
    const get = await c.kubectl(['get', 'job', 'fail-job']);
    assert.match(get.stdout, /fail-job\s+Failed\s+0\/2/);
  });

  test('an Ignore rule on DisruptionTarget replaces an evicted pod without using up backoffLimit', async () => {
    await client.create(jobs, NS, job('evicted', { completions: 1, parallelism: 1, backoffLimit: 0, podFailurePolicy: { rules: [ignoreDisruptions] } }));
    const [first] = await running(client, 'evicted', 1);
    const name = first!.metadata!.name!;
    const res = await c.api('POST', `/api/v1/namespaces/${NS}/pods/${name}/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS } } });
    assert.equal(res.status, 201, res.text);

    // Until the agent reports the pod Failed it is terminating: not counted, not replaced.
    const terminating = await eventually(async () => {
      const s = await jobStatus(client, 'evicted');
      return s.terminating === 1 ? s : undefined;
    }, 10_000, 'one terminating pod');
    assert.equal(terminating.failed ?? 0, 0);
    await sleep(500);
    const evicted = await client.get(podsResource, NS, name);
    assert.equal((evicted['status'] as any).conditions.find((cond: any) => cond.type === 'DisruptionTarget')?.reason, 'EvictionByEvictionAPI');
    assert.ok(evicted.metadata!.finalizers!.includes(TRACKING), 'kept until it is Failed');
    assert.equal((await listPods(client, NS, 'task=evicted')).length, 1, 'no replacement while it terminates');
    assert.equal(condition(await jobStatus(client, 'evicted'), 'FailureTarget'), undefined);

    await endPod(client, name, 137);
    const [replacement] = await running(client, 'evicted', 1);
    assert.notEqual(replacement!.metadata!.name, name);
    const afterEviction = await jobStatus(client, 'evicted');
    assert.equal(afterEviction.failed ?? 0, 0, 'the eviction is not a counted failure');
    assert.equal(condition(afterEviction, 'FailureTarget'), undefined, 'backoffLimit 0 is not used up');
    await eventually(async () => ((await listPods(client, NS, 'task=evicted')).some((p) => p.metadata!.name === name) ? undefined : true), 10_000, 'the evicted pod released and gone');

    await endPod(client, replacement!.metadata!.name!, 0);
    const done = await eventually(async () => {
      const s = await jobStatus(client, 'evicted');
      return condition(s, 'Complete')?.status === 'True' ? s : undefined;
    }, 10_000, 'Complete');
    assert.equal(done.succeeded, 1);
    assert.equal(done.failed ?? 0, 0);
  });

  test('Count rules, and failures no rule matches, count towards backoffLimit as before', async () => {
    await client.create(jobs, NS, job('counted', { backoffLimit: 1, podFailurePolicy: { rules: [ignoreDisruptions, { action: 'Count', onExitCodes: { operator: 'In', values: [1] } }] } }));
    const [first] = await running(client, 'counted', 1);
    await endPod(client, first!.metadata!.name!, 2);
    const [second] = await eventually(async () => {
      const pods = (await listPods(client, NS, 'task=counted')).filter((p) => phaseOf(p) === 'Running' && p.metadata!.name !== first!.metadata!.name);
      return pods.length === 1 ? pods : undefined;
    }, 10_000, 'a replacement');
    assert.equal((await jobStatus(client, 'counted')).failed, 1, 'an unmatched failure counts');
    await endPod(client, second!.metadata!.name!, 1);
    const status = await eventually(async () => {
      const s = await jobStatus(client, 'counted');
      return condition(s, 'Failed')?.status === 'True' ? s : undefined;
    }, 10_000, 'Failed');
    assert.deepEqual([condition(status, 'Failed').reason, condition(status, 'Failed').message], ['BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
    assert.equal(condition(status, 'FailureTarget').reason, 'BackoffLimitExceeded');
    assert.equal(status.failed, 2);
    assert.equal((await listPods(client, NS, 'task=counted')).length, 2, 'no pod after the limit');
  });
});
