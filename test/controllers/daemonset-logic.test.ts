// The DaemonSet controller's pure logic, without a network: node eligibility (selectors,
// affinity, taints and the daemon tolerations), node pinning, per-node placement, the rolling
// update with maxUnavailable or maxSurge, revisions and status.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { revisionData, revisionMatches, revisionsToDelete } from '../../controlplane/controllers/daemonset/history.js';
import { nodeShouldRunDaemonPod } from '../../controlplane/controllers/daemonset/node-eligibility.js';
import { toleratesTaint } from '../../controlplane/scheduler/tolerations.js';
import { podsShouldBeOnNode } from '../../controlplane/controllers/daemonset/placement.js';
import { daemonPodTemplate, pinnedToNode, targetNodeOf } from '../../controlplane/controllers/daemonset/pod-template.js';
import { planRollingUpdate } from '../../controlplane/controllers/daemonset/rolling.js';
import { daemonSetStatus } from '../../controlplane/controllers/daemonset/status.js';

const now = Date.parse('2024-06-01T12:00:00Z');

function ds(spec: Record<string, unknown> = {}, strategy: Record<string, unknown> = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }): DaemonSet {
  return {
    metadata: { name: 'agent', namespace: 'kube-system', generation: 2 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: strategy,
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'agent:1' }], ...spec } },
    },
  } as DaemonSet;
}

function node(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): Node {
  return { metadata: { name, labels }, spec: { taints } } as Node;
}

let n = 0;
function pod(nodeName: string, hash: string, options: { ready?: boolean; phase?: string; deleting?: boolean; createdAgoMs?: number } = {}): Pod {
  n++;
  return {
    metadata: {
      name: `agent-${n}`,
      uid: `uid-${n}`,
      labels: { app: 'agent', 'controller-revision-hash': hash },
      creationTimestamp: new Date(now - (options.createdAgoMs ?? 60_000 - n)).toISOString(),
      deletionTimestamp: options.deleting ? new Date(now).toISOString() : undefined,
    },
    spec: { nodeName, containers: [] },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True', lastTransitionTime: new Date(now - 60_000).toISOString() }],
    },
  } as Pod;
}

describe('which nodes run a daemon', () => {
  test('nodeSelector and required node affinity must match', () => {
    const selective = ds({ nodeSelector: { disk: 'ssd' } });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', { disk: 'ssd' }), selective), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('b', { disk: 'hdd' }), selective), { shouldRun: false, shouldContinueRunning: false });
    const affine = ds({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['4'] }] }] } } },
    });
    assert.equal(nodeShouldRunDaemonPod(node('big', { cpus: '8' }), affine).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('small', { cpus: '2' }), affine).shouldRun, false);
    const byName = ds({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['x'] }] }] } } },
    });
    assert.equal(nodeShouldRunDaemonPod(node('x'), byName).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('y'), byName).shouldRun, true);
  });

  test('taints: NoSchedule keeps new pods off but lets running ones stay; NoExecute evicts', () => {
    const plain = ds();
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), plain), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), plain), { shouldRun: false, shouldContinueRunning: false });
    const tolerant = ds({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] });
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), tolerant).shouldRun, true);
    assert.ok(toleratesTaint({ operator: 'Exists' }, { key: 'anything', effect: 'NoSchedule' }));
    assert.ok(!toleratesTaint({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, { key: 'k', value: 'v', effect: 'NoExecute' }));
  });

  test('daemon pods tolerate cordoned, unreachable and pressured nodes', () => {
    for (const [key, effect] of [
      ['node.kubernetes.io/unschedulable', 'NoSchedule'],
      ['node.kubernetes.io/unreachable', 'NoExecute'],
      ['node.kubernetes.io/not-ready', 'NoExecute'],
      ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
    ]) {
      assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key, effect }]), ds()).shouldRun, true, key);
    }
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds()).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds({ hostNetwork: true })).shouldRun, true);
  });
});

describe('daemon pods', () => {
  test('the template gets the hash label and the tolerations; pods are pinned by affinity', () => {
    const t = daemonPodTemplate(ds({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), 'abc');
    assert.equal(t.metadata!.labels!['controller-revision-hash'], 'abc');
    assert.equal(t.spec!.tolerations!.length, 6, 'an existing equal toleration is not duplicated');
    const affinity = pinnedToNode({ podAntiAffinity: {} }, 'node-1');
    assert.deepEqual(affinity.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }],
    });
    assert.deepEqual(affinity.podAntiAffinity, {});
    assert.equal(targetNodeOf({ spec: { containers: [], affinity } } as Pod), 'node-1');
  });

  test('placement: create where missing, keep the oldest, replace failed, remove where not allowed', () => {
    const run = { shouldRun: true, shouldContinueRunning: true };
    assert.deepEqual(podsShouldBeOnNode(ds(), 'h1', run, [], now), { create: true, delete: [], failed: [] });
    const older = pod('a', 'h1', { createdAgoMs: 100_000 });
    const newer = pod('a', 'h1', { createdAgoMs: 10_000 });
    assert.deepEqual(podsShouldBeOnNode(ds(), 'h1', run, [newer, older], now).delete, [newer]);
    const failed = pod('a', 'h1', { phase: 'Failed' });
    const plan = podsShouldBeOnNode(ds(), 'h1', run, [failed], now);
    assert.deepEqual(plan.failed, [failed]);
    assert.equal(plan.create, false, 'the replacement comes after the failed pod is gone');
    const leave = podsShouldBeOnNode(ds(), 'h1', { shouldRun: false, shouldContinueRunning: false }, [older], now);
    assert.deepEqual(leave.delete, [older]);
  });

  test('with surge, an old and a new pod share a node until the new one is available', () => {
    const surge = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const run = { shouldRun: true, shouldContinueRunning: true };
    const old = pod('a', 'h1', { createdAgoMs: 100_000 });
    const fresh = pod('a', 'h2', { ready: false, createdAgoMs: 1000 });
    assert.deepEqual(podsShouldBeOnNode(surge, 'h2', run, [old, fresh], now).delete, []);
    const freshReady = pod('a', 'h2', { createdAgoMs: 1000 });
    assert.deepEqual(podsShouldBeOnNode(surge, 'h2', run, [old, freshReady], now).delete, [old]);
  });
});

describe('DaemonSet rolling update', () => {
  const all = () => true;

  test('without surge, old pods go at most maxUnavailable at a time, unavailable ones first', () => {
    const d = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    const byNode = new Map<string, Pod[]>([
      ['a', [pod('a', 'old')]],
      ['b', [pod('b', 'old')]],
      ['c', [pod('c', 'old')]],
    ]);
    const plan = planRollingUpdate(d, 'new', byNode, 3, all, now);
    assert.equal(plan.deletePods.length, 1);
    assert.deepEqual(plan.createOnNodes, []);
    // A node still waiting for its new pod uses up the budget.
    byNode.set('a', [pod('a', 'new', { ready: false })]);
    assert.equal(planRollingUpdate(d, 'new', byNode, 3, all, now).deletePods.length, 0);
    // An unavailable old pod is replaced regardless.
    byNode.set('b', [pod('b', 'old', { ready: false })]);
    const p = planRollingUpdate(d, 'new', byNode, 3, all, now);
    assert.deepEqual(p.deletePods.map((x) => x.spec!.nodeName), ['b']);
    // Percentages round up: 25% of 3 nodes is 1.
    const pct = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } });
    assert.equal(planRollingUpdate(pct, 'new', new Map([['a', [pod('a', 'old')]], ['b', [pod('b', 'old')]], ['c', [pod('c', 'old')]]]), 3, all, now).deletePods.length, 1);
  });

  test('with surge, new pods are created next to old ones and old ones go once the new are available', () => {
    const d = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const byNode = new Map<string, Pod[]>([
      ['a', [pod('a', 'old')]],
      ['b', [pod('b', 'old')]],
    ]);
    assert.deepEqual(planRollingUpdate(d, 'new', byNode, 2, all, now), { deletePods: [], createOnNodes: ['a'] });
    const oldA = pod('a', 'old');
    byNode.set('a', [oldA, pod('a', 'new', { ready: false })]);
    assert.deepEqual(planRollingUpdate(d, 'new', byNode, 2, all, now), { deletePods: [], createOnNodes: [] }, 'the surge is used up');
    byNode.set('a', [oldA, pod('a', 'new')]);
    const p = planRollingUpdate(d, 'new', byNode, 2, all, now);
    assert.deepEqual(p.deletePods, [oldA]);
  });
});

describe('revisions and status', () => {
  test('a revision matches the template it was made from; old unused revisions beyond the limit go', () => {
    const d = ds();
    const revision = { metadata: { name: 'agent-x', labels: { 'controller-revision-hash': 'x' } }, data: revisionData(d), revision: 1 };
    assert.ok(revisionMatches(d, revision));
    assert.ok(!revisionMatches(ds({ hostNetwork: true }), revision));
    assert.deepEqual((revisionData(d) as any).spec.template.$patch, 'replace');
    const limited = { ...d, spec: { ...d.spec!, revisionHistoryLimit: 1 } } as DaemonSet;
    const olds = [1, 2, 3].map((r) => ({ metadata: { name: `r${r}`, labels: { 'controller-revision-hash': `h${r}` } }, revision: r }));
    assert.deepEqual(revisionsToDelete(limited, olds, new Set(['h1'])).map((r) => r.metadata?.name), ['r2', 'r3'], 'two too many; r1 still has pods');
  });

  test('status counts per node, the oldest pod speaking for its node', () => {
    const d = ds({ nodeSelector: { role: 'worker' } });
    const nodes = [node('a', { role: 'worker' }), node('b', { role: 'worker' }), node('c', { role: 'worker' }), node('m', {})];
    const byNode = new Map<string, Pod[]>([
      ['a', [pod('a', 'h2')]],
      ['b', [pod('b', 'h1', { ready: false })]],
      ['m', [pod('m', 'h2')]],
    ]);
    const s = daemonSetStatus(d, nodes, byNode, 'h2', now);
    assert.deepEqual(
      [s.desiredNumberScheduled, s.currentNumberScheduled, s.numberReady, s.numberAvailable, s.updatedNumberScheduled, s.numberMisscheduled, s.numberUnavailable],
      [3, 2, 1, 1, 1, 1, 2],
    );
  });
});
