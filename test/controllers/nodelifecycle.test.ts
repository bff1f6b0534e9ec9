// Node lifecycle: silent nodes become Unknown and tainted, their pods stop being Ready and are
// evicted after their toleration; nodes reporting Ready=False get the not-ready taint instead;
// taints go when the node is back; NoExecute taints evict untolerating pods at once; a deleted
// node's pods are deleted.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { conditionsAfterSilence } from '../../controlplane/controllers/nodelifecycle/conditions.js';
import { nodeLifecycleController } from '../../controlplane/controllers/nodelifecycle/controller.js';
import { evictionFor } from '../../controlplane/controllers/nodelifecycle/eviction.js';
import { desiredTaints } from '../../controlplane/controllers/nodelifecycle/taints.js';
import { eventually } from '../helpers/cluster.js';
import { createPod, startControlledCluster } from '../scheduler/controlled-cluster.js';
import type { ControlledCluster } from '../scheduler/controlled-cluster.js';
import { node, pod } from '../scheduler/fixtures.js';
import type { PodShape } from '../scheduler/fixtures.js';

const nodes = resourceFor('', 'nodes');
const pods = resourceFor('', 'pods');
type NodeObject = Node & KubeObject;
type PodObject = Pod & KubeObject;

describe('node lifecycle rules', () => {
  test('silence makes every condition Unknown, keeping heartbeats; a node that never reported gets Ready=Unknown', () => {
    const n = node('n1');
    n.status!.conditions = [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-01-01T00:00:00Z' },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
    ];
    const after = conditionsAfterSilence(n, Date.parse('2026-01-01T00:01:00Z'))!;
    assert.deepEqual(after[0], {
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: '2026-01-01T00:00:00Z',
      lastTransitionTime: '2026-01-01T00:01:00Z',
    });
    assert.equal(after[1]!.status, 'Unknown');
    assert.equal(conditionsAfterSilence({ ...n, status: { conditions: after } }, Date.now()), undefined);
    const never = conditionsAfterSilence(node('n2', { ready: 'missing' }), Date.now())!;
    assert.equal(never[0]!.reason, 'NodeStatusNeverUpdated');
  });

  test('taints follow Ready and spec.unschedulable, keep their timeAdded and leave user taints alone', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const unknown = node('n', { ready: 'Unknown', taints: [{ key: 'user', effect: 'NoSchedule' }] });
    const tainted = desiredTaints(unknown, t0);
    assert.deepEqual(tainted, [
      { key: 'user', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' },
    ]);
    assert.deepEqual(desiredTaints({ ...unknown, spec: { taints: tainted } }, t0 + 60_000), tainted);
    const notReady = desiredTaints(node('n', { ready: 'False', taints: tainted, unschedulable: true }), t0);
    assert.deepEqual(notReady.map((t) => `${t.key}:${t.effect}`), [
      'user:NoSchedule',
      'node.kubernetes.io/not-ready:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    assert.deepEqual(desiredTaints(node('n', { ready: 'True', taints: notReady }), t0), [{ key: 'user', effect: 'NoSchedule' }]);
  });

  test('eviction: untolerated NoExecute at once, tolerationSeconds from timeAdded, no seconds never', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: '2026-01-01T00:00:00Z' };
    const t0 = Date.parse(taint.timeAdded);
    const tolerating = (seconds?: number) => pod('p', { spec: { tolerations: [{ key: taint.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }] } });
    assert.deepEqual(evictionFor(pod('p'), [taint], t0), { kind: 'now' });
    assert.deepEqual(evictionFor(tolerating(30), [taint], t0 + 10_000), { kind: 'at', atMs: t0 + 30_000 });
    assert.deepEqual(evictionFor(tolerating(30), [taint], t0 + 30_000), { kind: 'now' });
    assert.deepEqual(evictionFor(tolerating(), [taint], t0 + 1e9), { kind: 'never' });
    assert.deepEqual(evictionFor(pod('p'), [{ key: 'x', effect: 'NoSchedule' }], t0), { kind: 'never' });
  });
});

function assertDisruptionTarget(p: PodObject, reason: string, message: string): void {
  const condition = p.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
  assert.deepEqual([condition?.status, condition?.reason, condition?.message], ['True', reason, message]);
}

describe('node lifecycle controller', () => {
  let t: ControlledCluster;
  before(async () => {
    // A 3 s grace period: with 1 s, a stall of the test's heartbeats on a loaded machine could
    // pass for a silent node.
    t = await startControlledCluster([nodeLifecycleController({ gracePeriodMs: 3000, monitorPeriodMs: 200 })], {
      defaultTolerationSeconds: { notReady: 2, unreachable: 2 },
    });
  });
  after(async () => {
    await t.close();
  });

  const create = (name: string, shape: PodShape) => createPod(t.client, name, shape);
  const getNode = (name: string) => t.client.get<NodeObject>(nodes, undefined, name);
  const getPod = (name: string) => t.client.get<PodObject>(pods, 'default', name);

  test('a silent node goes Unknown and tainted, its pods turn not Ready and go after their toleration; the taint goes when it is back', async (tc) => {
    await t.nodes.add('silent');
    await create('short', { nodeName: 'silent' });
    await create('forever', {
      nodeName: 'silent',
      spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] },
    });
    await t.client.patch(pods, 'default', 'short', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'strategic', { subresource: 'status' });
    await new Promise((r) => setTimeout(r, 3500)); // heartbeats keep it Ready past the grace period
    assert.equal((await getNode('silent')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

    t.nodes.stop('silent');
    const stoppedAt = Date.now();
    const ready = await eventually(async () => {
      const c = (await getNode('silent')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === 'Unknown' ? c : undefined;
    }, 10_000, 'the node to become Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    const taints = await eventually(async () => {
      const list = (await getNode('silent')).spec?.taints ?? [];
      return list.length === 2 ? list : undefined;
    }, 5000, 'the unreachable taints');
    assert.deepEqual(taints.map((x) => `${x.key}:${x.effect}`), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    assert.ok(taints[1]!.timeAdded);
    await eventually(async () => {
      const c = (await getPod('short')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === 'False' ? true : undefined;
    }, 5000, 'the pod to be marked not Ready');

    const evicted = await eventually(async () => (await getPod('short')).metadata?.deletionTimestamp, 8000, 'the pod to be evicted');
    const taintedAt = Date.parse(taints[1]!.timeAdded!);
    const evictedAfter = Date.now() - taintedAt;
    tc.diagnostic(`Unknown after ${taintedAt - stoppedAt} ms of silence, evicted ${evictedAfter} ms after the taint`);
    assert.ok(evicted);
    assert.ok(evictedAfter >= 2000 - 1000, `evicted ${evictedAfter} ms after the taint (toleration 2 s, timeAdded has 1 s precision)`);
    assertDisruptionTarget(await getPod('short'), 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint');
    assert.equal((await getPod('forever')).metadata?.deletionTimestamp, undefined);

    await t.nodes.revive('silent');
    await eventually(async () => ((await getNode('silent')).spec?.taints ?? []).length === 0 || undefined, 5000, 'the taints to go');
  });

  test('a NoExecute taint evicts pods that do not tolerate it at once; a deleted node takes its pods along', async () => {
    await t.nodes.add('tainted');
    await create('intolerant', { nodeName: 'tainted' });
    await create('tolerant', { nodeName: 'tainted', spec: { tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute' }] } });
    assert.equal((await t.cluster.kubectl(['taint', 'node', 'tainted', 'maintenance=now:NoExecute'])).code, 0);
    await eventually(async () => (await getPod('intolerant')).metadata?.deletionTimestamp, 5000, 'the intolerant pod to be evicted');
    assertDisruptionTarget(await getPod('intolerant'), 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint');
    assert.equal((await getPod('tolerant')).metadata?.deletionTimestamp, undefined);

    // A finalizer keeps one of the node's pods in sight after its deletion.
    await t.client.patch(pods, 'default', 'tolerant', { metadata: { finalizers: ['skiff.test/keep'] } }, 'merge');
    await t.client.delete(nodes, undefined, 'tainted');
    const kept = await eventually(async () => {
      const p = await getPod('tolerant');
      return p.metadata?.deletionTimestamp ? p : undefined;
    }, 5000, 'the kept pod of the deleted node to be deleted');
    // As PodGC does, a pod no agent will ever end is marked Failed, with the reason, before it goes.
    assert.equal(kept.status?.phase, 'Failed');
    assertDisruptionTarget(kept, 'DeletionByPodGC', 'PodGC: node no longer exists');
    await t.client.patch(pods, 'default', 'tolerant', { metadata: { finalizers: null } }, 'merge');
  });

  test('a pod deleted before it was ever scheduled is marked Failed, so that whoever holds its finalizer sees it end', async () => {
    const created = await t.client.create<PodObject>(pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'never-scheduled', finalizers: ['skiff.test/keep'] },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await t.client.delete(pods, 'default', 'never-scheduled');
    const ended = await eventually(async () => {
      const p = await getPod('never-scheduled');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 5000, 'the unscheduled pod to be marked Failed');
    assert.equal(ended.metadata?.uid, created.metadata?.uid);
    assert.ok(ended.metadata?.deletionTimestamp);
    assert.equal(ended.status?.conditions?.find((x) => x.type === 'DisruptionTarget'), undefined);
    await t.client.patch(pods, 'default', 'never-scheduled', { metadata: { finalizers: null } }, 'merge');
    await eventually(async () => {
      const left = (await t.client.list<PodObject>(pods, 'default')).items.filter((p) => p.spec?.nodeName === 'tainted');
      return left.length === 0 ? true : undefined;
    }, 5000, 'the pods of the deleted node to be deleted');
  });
});

describe('node lifecycle controller, a node that reports Ready=False', () => {
  // Long enough that no stall of a loaded machine passes for silence, short enough that the test
  // outlives it: the node's Ready heartbeat never changes after Ready=False, so only its Lease
  // renewals can keep it from being taken for unreachable.
  const GRACE_MS = 3000;
  const NOT_READY = 'node.kubernetes.io/not-ready';
  let t: ControlledCluster;
  before(async () => {
    t = await startControlledCluster([nodeLifecycleController({ gracePeriodMs: GRACE_MS, monitorPeriodMs: 200 })]);
  });
  after(async () => {
    await t.close();
  });

  const create = (name: string, tolerationSeconds: number | undefined) =>
    createPod(t.client, name, { nodeName: 'sick', spec: { tolerations: [{ key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds }] } });
  const getNode = (name: string) => t.client.get<NodeObject>(nodes, undefined, name);
  const getPod = (name: string) => t.client.get<PodObject>(pods, 'default', name);

  test('a node renewing its Lease but reporting Ready=False is tainted not-ready, not unreachable; pods go after their not-ready toleration or stay if they tolerate it forever; Ready=True removes the taint', async (tc) => {
    await t.nodes.add('sick');
    await create('short', 3);
    await create('forever', undefined);

    const reportedAt = Date.now();
    await t.nodes.setReady('sick', 'False');
    const taints = await eventually(async () => {
      const list = (await getNode('sick')).spec?.taints ?? [];
      return list.length > 0 ? list : undefined;
    }, 10_000, 'the node to be tainted');
    assert.deepEqual(taints.map((x) => `${x.key}:${x.effect}`), [`${NOT_READY}:NoSchedule`, `${NOT_READY}:NoExecute`]);
    const taintedAt = Date.parse(taints[1]!.timeAdded!);
    assert.ok(Number.isFinite(taintedAt), `timeAdded ${taints[1]!.timeAdded}`);

    await eventually(async () => (await getPod('short')).metadata?.deletionTimestamp, 15_000, 'the pod tolerating not-ready for 3 s to be evicted');
    const evictedAfter = Date.now() - taintedAt;
    tc.diagnostic(`evicted ${evictedAfter} ms after the taint's timeAdded`);
    assert.ok(evictedAfter >= 3000 - 1000, `evicted ${evictedAfter} ms after the taint (toleration 3 s, timeAdded has 1 s precision)`);
    assertDisruptionTarget(await getPod('short'), 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint');

    // Past the grace period since the last Ready heartbeat: the Lease alone keeps the node
    // reachable, so it stays Ready=False as reported, with the not-ready taints only.
    const waitMs = reportedAt + GRACE_MS + 1000 - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    const sick = await getNode('sick');
    const ready = sick.status?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'KubeletNotReady']);
    assert.deepEqual((sick.spec?.taints ?? []).map((x) => `${x.key}:${x.effect}`), [`${NOT_READY}:NoSchedule`, `${NOT_READY}:NoExecute`]);
    assert.equal((await getPod('forever')).metadata?.deletionTimestamp, undefined);

    await t.nodes.setReady('sick', 'True');
    await eventually(async () => ((await getNode('sick')).spec?.taints ?? []).length === 0 || undefined, 10_000, 'the not-ready taints to go');
    assert.equal((await getPod('forever')).metadata?.deletionTimestamp, undefined);
  });
});
