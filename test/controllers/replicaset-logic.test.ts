// The ReplicaSet controller's pure logic, without a network, with the shared pieces it rests on
// (controllers/pods, controllers/ownership): which pods go first, expectations, claiming,
// slow-start batches and the status.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { selectorFromSet } from '../../api/labels.js';
import { claimDecision } from '../../controlplane/controllers/ownership/controller-ref.js';
import { Expectations } from '../../controlplane/controllers/pods/expectations.js';
import { slowStartBatch } from '../../controlplane/controllers/pods/pod-control.js';
import { podsToDelete } from '../../controlplane/controllers/pods/pod-ordering.js';
import { isPodAvailable } from '../../controlplane/controllers/pods/pod-state.js';
import { planReplicas } from '../../controlplane/controllers/replicaset/replicas.js';
import { replicaSetStatus } from '../../controlplane/controllers/replicaset/status.js';

const now = Date.parse('2024-06-01T12:00:00Z');
const iso = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

interface PodShape {
  node?: string;
  phase?: string;
  ready?: boolean;
  readyForMs?: number;
  restarts?: number;
  createdAgoMs?: number;
  cost?: number;
  labels?: Record<string, string>;
}

function pod(name: string, s: PodShape = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: iso(s.createdAgoMs ?? 3_600_000),
      labels: s.labels ?? { app: 'web' },
      annotations: s.cost === undefined ? {} : { 'controller.kubernetes.io/pod-deletion-cost': String(s.cost) },
    },
    spec: { nodeName: s.node, containers: [{ name: 'c' }] },
    status: {
      phase: s.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: s.ready === false ? 'False' : 'True', lastTransitionTime: iso(s.readyForMs ?? 600_000) }],
      containerStatuses: [{ name: 'c', restartCount: s.restarts ?? 0, ready: s.ready !== false, image: '', imageID: '' }],
    },
  } as Pod;
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);

describe('which pods a ReplicaSet deletes first', () => {
  test('unscheduled, then pending, then not ready, then ready', () => {
    const pods = [
      pod('ready', { node: 'n1' }),
      pod('not-ready', { node: 'n1', ready: false }),
      pod('pending', { node: 'n1', phase: 'Pending', ready: false }),
      pod('unscheduled', { phase: 'Pending', ready: false }),
    ];
    assert.deepEqual(names(podsToDelete(pods, pods, 3, now)), ['unscheduled', 'pending', 'not-ready']);
  });

  test('lower deletion cost, then doubled-up nodes, then recently ready, then restarts, then newest', () => {
    const cost = [pod('expensive', { node: 'n1', cost: 10 }), pod('cheap', { node: 'n2', cost: -5 })];
    assert.deepEqual(names(podsToDelete(cost, cost, 1, now)), ['cheap']);

    const crowded = [pod('alone', { node: 'n1' }), pod('crowd-a', { node: 'n2', readyForMs: 600_000 }), pod('crowd-b', { node: 'n2', readyForMs: 600_000 })];
    assert.equal(names(podsToDelete(crowded, crowded, 1, now))[0]!.startsWith('crowd-'), true);

    const fresh = [pod('old-ready', { node: 'n1', readyForMs: 86_400_000 }), pod('just-ready', { node: 'n2', readyForMs: 5_000 })];
    assert.deepEqual(names(podsToDelete(fresh, fresh, 1, now)), ['just-ready']);

    const restarts = [pod('stable', { node: 'n1' }), pod('flaky', { node: 'n2', restarts: 4 })];
    assert.deepEqual(names(podsToDelete(restarts, restarts, 1, now)), ['flaky']);

    const ages = [pod('older', { node: 'n1', createdAgoMs: 86_400_000, ready: false }), pod('newer', { node: 'n2', createdAgoMs: 1_000, ready: false })];
    assert.deepEqual(names(podsToDelete(ages, ages, 1, now)), ['newer']);
  });

  test('plans creations and deletions, within the burst', () => {
    assert.deepEqual(planReplicas(3, [pod('a')], [], now), { kind: 'create', count: 2 });
    assert.deepEqual(planReplicas(1000, [], [], now, 500), { kind: 'create', count: 500 });
    const action = planReplicas(1, [pod('a', { node: 'n' }), pod('b', { ready: false })], [], now);
    assert.equal(action.kind, 'delete');
    assert.deepEqual(action.kind === 'delete' && names(action.pods), ['b']);
    assert.deepEqual(planReplicas(1, [pod('a')], [], now), { kind: 'none' });
  });
});

describe('expectations', () => {
  test('an owner waits for its creations and its deletions, by pod', () => {
    const e = new Expectations();
    assert.ok(e.satisfied('rs'), 'nothing expected yet');
    e.expect('rs', 2, []);
    assert.ok(!e.satisfied('rs'));
    e.creationObserved('rs');
    assert.ok(!e.satisfied('rs'));
    e.creationObserved('rs');
    assert.ok(e.satisfied('rs'));
    e.expect('rs', 0, ['default/a', 'default/b']);
    e.deletionObserved('rs', 'default/a');
    e.deletionObserved('rs', 'default/a');
    e.deletionObserved('rs', 'default/other');
    assert.ok(!e.satisfied('rs'), 'b not yet seen, whatever else was');
    e.deletionObserved('rs', 'default/b');
    assert.ok(e.satisfied('rs'));
  });

  test('expectations expire, so a lost event cannot stall an owner forever', () => {
    let t = 0;
    const e = new Expectations(1000, () => t);
    e.expect('rs', 1, []);
    t = 999;
    assert.ok(!e.satisfied('rs'));
    t = 1001;
    assert.ok(e.satisfied('rs'));
  });
});

describe('claiming', () => {
  const owner = { uid: 'me', deleting: false, selector: selectorFromSet({ app: 'web' }) };
  const ref = (uid: string) => [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid, controller: true }];

  test('own, adopt, release or ignore', () => {
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'web' }, ownerReferences: ref('me') } }), 'own');
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'other' }, ownerReferences: ref('me') } }), 'release');
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'web' } } }), 'adopt');
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'web' }, ownerReferences: ref('someone') } }), 'ignore');
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'other' } } }), 'ignore');
    assert.equal(claimDecision(owner, { metadata: { labels: { app: 'web' }, deletionTimestamp: iso(0) } }), 'ignore');
  });

  test('an owner being deleted neither adopts nor releases', () => {
    const deleting = { ...owner, deleting: true };
    assert.equal(claimDecision(deleting, { metadata: { labels: { app: 'web' } } }), 'ignore');
    assert.equal(claimDecision(deleting, { metadata: { labels: { app: 'other' }, ownerReferences: ref('me') } }), 'ignore');
  });
});

describe('slow start', () => {
  test('batches of 1, 2, 4, ... stop after the first failing batch', async () => {
    let calls = 0;
    const all = await slowStartBatch(10, 1, async () => {
      calls++;
    });
    assert.deepEqual([all.successes, calls], [10, 10]);
    calls = 0;
    const failing = await slowStartBatch(100, 1, async () => {
      if (++calls > 3) throw new Error('quota');
    });
    // 1 ok, 2 ok, then a batch of 4 fails: 7 calls, 3 successes.
    assert.deepEqual([failing.successes, calls], [3, 7]);
    assert.match(String(failing.error), /quota/);
  });
});

describe('ReplicaSet status', () => {
  const rs = {
    metadata: { name: 'web', generation: 4 },
    spec: { replicas: 3, minReadySeconds: 30, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'fe' } } } },
  } as ReplicaSet;

  test('counts fully labeled, ready and available pods and reports failures', () => {
    const pods = [
      pod('a', { labels: { app: 'web', tier: 'fe' }, readyForMs: 60_000 }),
      pod('b', { labels: { app: 'web' }, readyForMs: 5_000 }),
      pod('c', { labels: { app: 'web', tier: 'fe' }, ready: false }),
    ];
    const s = replicaSetStatus(rs, pods, undefined, now);
    assert.deepEqual([s.replicas, s.fullyLabeledReplicas, s.readyReplicas, s.availableReplicas, s.observedGeneration], [3, 2, 2, 1, 4]);
    assert.equal(s.conditions, undefined);
    const failed = replicaSetStatus(rs, pods.slice(0, 1), 'pods "web-x" is forbidden: exceeded quota', now);
    assert.equal(failed.conditions![0]!.type, 'ReplicaFailure');
    assert.equal(failed.conditions![0]!.reason, 'FailedCreate');
    assert.ok(isPodAvailable(pods[0]!, 30, now) && !isPodAvailable(pods[1]!, 30, now));
  });
});
