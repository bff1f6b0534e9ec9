// The pods/eviction subresource against a real API server, with the disruption controller's part
// played by the test (it writes each budget's status): a pod no budget covers is deleted; a
// budget that allows a disruption gives one up (status decremented, the pod recorded in
// disruptedPods) and the pod goes; a budget at zero, or whose status is older than its spec,
// answers 429 with Kubernetes' message and the DisruptionBudget cause; dry runs change nothing;
// pods not running are evicted without asking; two budgets are a 500; discovery lists the
// subresource the way `kubectl drain` looks for it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { adminClient, bindPod, podsResource, setPodStatus } from '../controllers/workload-harness.js';

const pdbs = resourceFor('policy', 'poddisruptionbudgets');
const disruptionTarget = (pod: KubeObject) => (pod as Pod).status?.conditions?.find((cond) => cond.type === 'DisruptionTarget');
const NS = 'default';

describe('pods/eviction', () => {
  let c: TestCluster;
  let client: KubeClient;

  before(async () => {
    c = await startTestCluster();
    client = adminClient(c);
  });
  after(async () => {
    await client?.close();
    await c?.close();
  });

  /** A running, ready pod (not on a node, so that its deletion is immediate). */
  async function runningPod(name: string, app: string, options: { ready?: boolean; phase?: 'Pending' | 'Running' } = {}): Promise<void> {
    await client.create(podsResource, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
    if (options.phase !== 'Pending') await setPodStatus(client, NS, name, { ready: options.ready ?? true });
  }

  /** A budget whose status the test writes as the controller would, current with its generation. */
  async function budget(name: string, app: string, status: { disruptionsAllowed: number; currentHealthy: number; desiredHealthy: number }, observed = true): Promise<KubeObject> {
    const created = await client.create<KubeObject>(pdbs, NS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { minAvailable: 1, selector: { matchLabels: { app } } } });
    const generation = created.metadata?.generation ?? 0;
    return client.updateStatus(pdbs, NS, { ...created, status: { ...status, expectedPods: status.currentHealthy, observedGeneration: observed ? generation : generation - 1 } });
  }

  const evict = (name: string, query = '', body: Record<string, unknown> = {}) =>
    c.api('POST', `/api/v1/namespaces/${NS}/pods/${name}/eviction${query}`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS }, ...body } });
  const podExists = async (name: string) => (await c.api('GET', `/api/v1/namespaces/${NS}/pods/${name}`)).status === 200;

  test('discovery lists pods/eviction as a policy/v1 Eviction, and a new budget starts with zeroed counts', async () => {
    const core = (await c.api('GET', '/api/v1')).body;
    const eviction = core.resources.find((r: { name: string }) => r.name === 'pods/eviction');
    assert.deepEqual({ kind: eviction.kind, group: eviction.group, version: eviction.version, verbs: eviction.verbs }, { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
    const created = await client.create<KubeObject>(pdbs, NS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'fresh' }, spec: { maxUnavailable: 1 } });
    assert.deepEqual(created['status'], { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.equal(created.metadata?.generation, 1);
    await client.delete(pdbs, NS, 'fresh');
  });

  test('a pod no budget covers is deleted', async () => {
    await runningPod('free', 'free');
    const res = await evict('free');
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    assert.equal(await podExists('free'), false);
  });

  test('a budget that allows a disruption gives one up, records the pod, and the pod goes', async () => {
    await runningPod('web-1', 'web');
    await runningPod('web-2', 'web');
    await budget('web', 'web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1 });
    const res = await evict('web-1');
    assert.equal(res.status, 201, res.text);
    assert.equal(await podExists('web-1'), false);
    const status = (await client.get(pdbs, NS, 'web'))['status'] as { disruptionsAllowed: number; disruptedPods?: Record<string, string>; conditions?: { type: string; status: string; reason: string }[] };
    assert.equal(status.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(status.disruptedPods ?? {}), ['web-1']);
    assert.deepEqual(status.conditions?.map((x) => [x.type, x.status, x.reason]), [['DisruptionAllowed', 'False', 'InsufficientPods']]);
  });

  test('a budget at zero refuses with 429 and the DisruptionBudget cause; the pod stays', async () => {
    const res = await evict('web-2');
    assert.equal(res.status, 429, res.text);
    assert.equal(res.body.reason, 'TooManyRequests');
    assert.equal(res.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(res.body.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 2 currently' }]);
    assert.equal(await podExists('web-2'), true);
  });

  test('a dry run checks the budget but changes nothing', async () => {
    await runningPod('dry-1', 'dry');
    await budget('dry', 'dry', { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0 });
    const res = await evict('dry-1', '?dryRun=All');
    assert.equal(res.status, 201, res.text);
    assert.equal(await podExists('dry-1'), true);
    assert.equal(((await client.get(pdbs, NS, 'dry'))['status'] as { disruptionsAllowed: number }).disruptionsAllowed, 1);
    const viaBody = await evict('dry-1', '', { deleteOptions: { dryRun: ['All'] } });
    assert.equal(viaBody.status, 201, viaBody.text);
    assert.equal(await podExists('dry-1'), true);
    assert.equal(disruptionTarget(await client.get(podsResource, NS, 'dry-1')), undefined);
  });

  test('a budget whose status is older than its spec answers 429 until the controller catches up', async () => {
    await runningPod('stale-1', 'stale');
    await budget('stale', 'stale', { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0 }, false);
    const res = await evict('stale-1');
    assert.equal(res.status, 429, res.text);
    assert.deepEqual(res.body.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget stale is still being processed by the server.' }]);
    assert.equal(res.body.details.retryAfterSeconds, 10);
  });

  test('pods not running yet are evicted without asking the budget; unready ones when the budget is healthy', async () => {
    await runningPod('guarded-1', 'guarded');
    await runningPod('guarded-pending', 'guarded', { phase: 'Pending' });
    await runningPod('guarded-unready', 'guarded', { ready: false });
    await budget('guarded', 'guarded', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 });
    assert.equal((await evict('guarded-pending')).status, 201);
    assert.equal((await evict('guarded-unready')).status, 201);
    assert.equal(await podExists('guarded-pending'), false);
    assert.equal(await podExists('guarded-unready'), false);
    assert.equal((await evict('guarded-1')).status, 429);
  });

  test('two budgets covering one pod are a 500, as in Kubernetes', async () => {
    await runningPod('twice-1', 'twice');
    await budget('twice-a', 'twice', { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0 });
    await budget('twice-b', 'twice', { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0 });
    const res = await evict('twice-1');
    assert.equal(res.status, 500);
    assert.equal(res.body.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    assert.equal(await podExists('twice-1'), true);
  });

  test('a graceful eviction marks a pod on a node for deletion with the Eviction’s grace period', async () => {
    await runningPod('graceful', 'graceful');
    await bindPod(client, NS, 'graceful', 'node-a');
    const res = await evict('graceful', '', { deleteOptions: { gracePeriodSeconds: 7 } });
    assert.equal(res.status, 201, res.text);
    const pod = await client.get(podsResource, NS, 'graceful');
    assert.equal(pod.metadata?.deletionGracePeriodSeconds, 7);
    // As in Kubernetes 1.31+, the pod says why it goes while it terminates.
    const target = disruptionTarget(pod);
    assert.equal(target?.status, 'True');
    assert.equal(target?.reason, 'EvictionByEvictionAPI');
    assert.equal(target?.message, 'Eviction API: evicting');
    assert.ok((pod as Pod).status?.conditions?.some((cond) => cond.type === 'Ready'), 'the other conditions stay');
  });

  test('the eviction’s preconditions hold against the pod as stored: a stale resourceVersion is 409 and the pod is left unmarked', async () => {
    await runningPod('pre', 'pre');
    await bindPod(client, NS, 'pre', 'node-a');
    const stale = await client.get(podsResource, NS, 'pre');
    await setPodStatus(client, NS, 'pre', { ready: false });
    const res = await evict('pre', '', { deleteOptions: { preconditions: { resourceVersion: stale.metadata?.resourceVersion } } });
    assert.equal(res.status, 409, res.text);
    const pod = await client.get(podsResource, NS, 'pre');
    assert.equal(disruptionTarget(pod), undefined);
    assert.equal(pod.metadata?.deletionTimestamp, undefined);
    const fresh = await evict('pre', '', { deleteOptions: { preconditions: { resourceVersion: pod.metadata?.resourceVersion, uid: pod.metadata?.uid } } });
    assert.equal(fresh.status, 201, fresh.text);
    assert.ok((await client.get(podsResource, NS, 'pre')).metadata?.deletionTimestamp);
  });

  test('the name in the body must be the pod’s; a missing pod is 404', async () => {
    const res = await c.api('POST', `/api/v1/namespaces/${NS}/pods/web-2/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } } });
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'name in URL does not match name in Eviction object');
    assert.equal((await evict('nope')).status, 404);
  });
});
