// The Deployment controller's pure logic, without a network: template hashing, maxSurge and
// maxUnavailable arithmetic, the rolling-update steps, proportional scaling, annotations,
// conditions and status.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { setNewReplicaSetAnnotations } from '../../controlplane/controllers/deployment/annotations.js';
import { replicaSetsToCleanUp } from '../../controlplane/controllers/deployment/cleanup.js';
import { deploymentTimedOut, setCondition } from '../../controlplane/controllers/deployment/conditions.js';
import { canonicalJson, fnv32a, podTemplateHash, safeEncode, templatesEqualIgnoringHash } from '../../controlplane/controllers/deployment/hash.js';
import { isScalingEvent, planScale } from '../../controlplane/controllers/deployment/proportional.js';
import { findNewReplicaSet } from '../../controlplane/controllers/deployment/replicasets.js';
import { newReplicaSetReplicas, scaleDownOldReplicaSets } from '../../controlplane/controllers/deployment/rolling.js';
import { calculateStatus, rolloutStatus } from '../../controlplane/controllers/deployment/status.js';
import { maxSurge, maxUnavailable, resolveFenceposts, scaledValue } from '../../controlplane/controllers/deployment/surge.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };

function deployment(replicas: number, surge: number | string = 1, unavailable: number | string = 1, extra: Record<string, unknown> = {}): Deployment {
  return {
    metadata: { name: 'web', generation: 1, annotations: {} },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
      template,
      progressDeadlineSeconds: 600,
      ...extra,
    },
  } as Deployment;
}

let seq = 0;
function rs(name: string, spec: number, available = spec, extra: { maxReplicas?: number; desired?: number; image?: string; revision?: number; created?: string } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (extra.maxReplicas !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(extra.maxReplicas);
  if (extra.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(extra.desired);
  if (extra.revision !== undefined) annotations['deployment.kubernetes.io/revision'] = String(extra.revision);
  return {
    metadata: { name, uid: `uid-${name}`, creationTimestamp: extra.created ?? `2024-01-01T00:00:${String(10 + seq++).padStart(2, '0')}Z`, annotations, generation: 1 },
    spec: { replicas: spec, selector: {}, template: { ...template, spec: { containers: [{ name: 'c', image: extra.image ?? 'nginx:0' }] } } },
    status: { replicas: spec, availableReplicas: available, readyReplicas: available, observedGeneration: 1 },
  } as ReplicaSet;
}

describe('pod-template-hash', () => {
  test('FNV-1a 32 matches the reference vectors', () => {
    const enc = new TextEncoder();
    assert.equal(fnv32a(enc.encode('')), 0x811c9dc5);
    assert.equal(fnv32a(enc.encode('a')), 0xe40c292c);
    assert.equal(fnv32a(enc.encode('foobar')), 0xbf9cf968);
  });

  test('the hash is stable, uses the safe alphabet and changes with the template and the collision count', () => {
    const h = podTemplateHash(template);
    assert.equal(h, podTemplateHash(structuredClone(template)));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.notEqual(h, podTemplateHash({ ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }));
    assert.notEqual(h, podTemplateHash(template, 0), 'a collision count (even 0) changes the hash');
    assert.notEqual(podTemplateHash(template, 1), podTemplateHash(template, 2));
    assert.equal(safeEncode('0123456789'), '456789bcdf', 'Kubernetes hashes are made of 4-9, b, c, d, f');
  });

  test('key order and empty values do not matter; the hash label is ignored when comparing', () => {
    const reordered = { spec: { containers: [{ image: 'nginx:1', name: 'c', resources: {}, env: [] }] }, metadata: { labels: { app: 'web' }, creationTimestamp: null } };
    assert.equal(canonicalJson(reordered), canonicalJson(template));
    assert.equal(podTemplateHash(reordered as never), podTemplateHash(template));
    const withHash = { ...template, metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } } };
    assert.ok(templatesEqualIgnoringHash(withHash, template));
    assert.ok(!templatesEqualIgnoringHash(withHash, { ...template, metadata: { labels: { app: 'other' } } }));
  });

  test('the new ReplicaSet is the oldest one whose template matches', () => {
    const d = deployment(3);
    const a = { ...rs('a', 1, 1, { created: '2024-01-01T00:00:02Z' }), spec: { replicas: 1, selector: {}, template } } as ReplicaSet;
    const b = { ...rs('b', 1, 1, { created: '2024-01-01T00:00:01Z' }), spec: { replicas: 1, selector: {}, template } } as ReplicaSet;
    assert.equal(findNewReplicaSet(d, [a, b, rs('c', 1)]), b);
    assert.equal(findNewReplicaSet(d, [rs('c', 1)]), undefined);
  });
});

describe('maxSurge and maxUnavailable', () => {
  test('percentages round surge up and unavailability down', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue(4, 10, false), 4);
    assert.throws(() => scaledValue('4', 10, true), /not a percentage/);
    assert.deepEqual(resolveFenceposts('25%', '25%', 4), { surge: 1, unavailable: 1 });
    assert.deepEqual(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
  });

  test('both zero means one may be unavailable; unavailability is capped at replicas; Recreate has neither', () => {
    assert.deepEqual(resolveFenceposts(0, '10%', 5), { surge: 0, unavailable: 1 });
    assert.equal(maxUnavailable(deployment(2, 0, 5)), 2);
    assert.equal(maxUnavailable(deployment(0, 0, 1)), 0);
    const recreate = { ...deployment(3), spec: { ...deployment(3).spec!, strategy: { type: 'Recreate' } } } as Deployment;
    assert.equal(maxSurge(recreate), 0);
    assert.equal(maxUnavailable(recreate), 0);
    assert.equal(newReplicaSetReplicas(recreate, [rs('old', 3)], rs('new', 0)), 3);
  });
});

describe('rolling update steps', () => {
  test('the new ReplicaSet grows only within desired + maxSurge and never beyond desired', () => {
    const d = deployment(10, 2, 2);
    assert.equal(newReplicaSetReplicas(d, [rs('old', 10), rs('new', 0)], rs('new', 0)), 2);
    assert.equal(newReplicaSetReplicas(d, [rs('old', 8), rs('new', 2)], rs('new', 2)), 4);
    assert.equal(newReplicaSetReplicas(d, [rs('old', 10), rs('new', 2)], rs('new', 2)), 2, 'at the surge limit');
    assert.equal(newReplicaSetReplicas(d, [rs('old', 1), rs('new', 9)], rs('new', 9)), 10);
  });

  test('old ReplicaSets shrink by their unavailable pods first, then while enough stay available', () => {
    const d = deployment(10, 2, 2);
    const newRS = rs('new', 2, 0);
    const old = rs('old', 10, 10);
    // 12 in total, 8 must stay available, 2 new ones are not available yet: scale down 2.
    assert.deepEqual(scaleDownOldReplicaSets(d, [old, newRS], [old], newRS).map((s) => [s.rs.metadata!.name, s.replicas]), [['old', 8]]);
    // Nothing may go while the new pods are not available and the old ones are at the minimum.
    const old8 = rs('old', 8, 8);
    assert.deepEqual(scaleDownOldReplicaSets(d, [old8, rs('new', 4, 0)], [old8], rs('new', 4, 0)), []);
    // Unavailable old pods go first, oldest ReplicaSet first.
    const older = rs('older', 3, 1);
    const old5 = rs('old5', 5, 5);
    const n = rs('new', 4, 4);
    const steps = scaleDownOldReplicaSets(d, [older, old5, n], [older, old5], n);
    assert.deepEqual(steps.map((s) => [s.rs.metadata!.name, s.replicas]), [['older', 0], ['old5', 4]]);
  });
});

describe('proportional scaling', () => {
  test('a single active ReplicaSet simply takes the new size', () => {
    const only = rs('only', 3, 3, { desired: 3, maxReplicas: 4 });
    assert.deepEqual(planScale(deployment(5), only, [rs('gone', 0)]).map((s) => s.replicas), [5]);
    assert.ok(isScalingEvent(deployment(5), only, []));
    assert.ok(!isScalingEvent(deployment(3), only, []));
  });

  test('scaling up mid-rollout keeps the proportions, the leftover going to the largest', () => {
    // 5 replicas, maxSurge 1: old 4 + new 2 = 6 = 5 + 1. Scale to 10: 11 allowed.
    const old = rs('old', 4, 4, { desired: 5, maxReplicas: 6 });
    const newRS = rs('new', 2, 0, { desired: 5, maxReplicas: 6 });
    const steps = planScale(deployment(10, 1, 1), newRS, [old]);
    assert.deepEqual(Object.fromEntries(steps.map((s) => [s.rs.metadata!.name, s.replicas])), { old: 7, new: 4 });
  });

  test('scaling down mid-rollout removes from the larger ReplicaSets, never below zero', () => {
    const old = rs('old', 7, 7, { desired: 10, maxReplicas: 11 });
    const newRS = rs('new', 4, 0, { desired: 10, maxReplicas: 11 });
    const steps = planScale(deployment(5, 1, 1), newRS, [old]);
    const sizes = Object.fromEntries(steps.map((s) => [s.rs.metadata!.name, s.replicas]));
    assert.equal(sizes['old']! + sizes['new']!, 6);
    assert.deepEqual(sizes, { old: 4, new: 2 });
    const toZero = planScale(deployment(0, 1, 1), newRS, [old]);
    assert.deepEqual(toZero.map((s) => s.replicas), [0, 0]);
  });

  test('a saturated new ReplicaSet scales the old ones to zero', () => {
    const newRS = rs('new', 3, 3, { desired: 3 });
    const old = rs('old', 1, 1, { desired: 2 });
    assert.deepEqual(planScale(deployment(3), newRS, [old]).map((s) => [s.rs.metadata!.name, s.replicas]), [['old', 0]]);
  });
});

describe('revisions and history', () => {
  test('a new ReplicaSet gets the next revision and the replica annotations; a reused one records its old revision', () => {
    const d = deployment(3, 1, 1);
    d.metadata!.annotations = { 'kubernetes.io/change-cause': 'v2', 'deployment.kubernetes.io/revision': '7' };
    const fresh: Record<string, string> = {};
    assert.ok(setNewReplicaSetAnnotations(d, fresh, 3, false));
    assert.deepEqual(fresh, {
      'kubernetes.io/change-cause': 'v2',
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    const reused: Record<string, string> = { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/revision-history': '0' };
    assert.ok(setNewReplicaSetAnnotations(deployment(3), reused, 4, true));
    assert.equal(reused['deployment.kubernetes.io/revision'], '4');
    assert.equal(reused['deployment.kubernetes.io/revision-history'], '0,1');
    assert.ok(!setNewReplicaSetAnnotations(deployment(3), reused, 4, true), 'nothing left to change');
  });

  test('the history limit deletes the lowest revisions that are fully scaled down', () => {
    const d = deployment(3, 1, 1, { revisionHistoryLimit: 1 });
    const r1 = rs('r1', 0, 0, { revision: 1 });
    const r2 = rs('r2', 0, 0, { revision: 2 });
    const r3 = rs('r3', 0, 0, { revision: 3 });
    assert.deepEqual(replicaSetsToCleanUp(d, [r3, r1, r2]).map((x) => x.metadata!.name), ['r1', 'r2']);
    const busy = { ...rs('busy', 0, 0, { revision: 0 }), status: { replicas: 1 } } as ReplicaSet;
    assert.deepEqual(replicaSetsToCleanUp(d, [busy, r3]).map((x) => x.metadata!.name), [], 'pods still running');
  });
});

describe('status and conditions', () => {
  const now = Date.parse('2024-06-01T12:00:00Z');

  test('counts come from the ReplicaSets; Available follows maxUnavailable', () => {
    const d = deployment(4, 1, 1);
    const newRS = { ...rs('new', 2, 1), status: { replicas: 2, readyReplicas: 2, availableReplicas: 1 } } as ReplicaSet;
    const old = rs('old', 3, 3);
    const s = calculateStatus(d, [old, newRS], newRS, now);
    assert.deepEqual([s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas, s.observedGeneration], [5, 2, 5, 4, 1, 1]);
    assert.equal(s.conditions!.find((c) => c.type === 'Available')!.reason, 'MinimumReplicasAvailable');
    const low = calculateStatus(d, [rs('old', 4, 2)], undefined, now);
    assert.equal(low.conditions!.find((c) => c.type === 'Available')!.status, 'False');
  });

  test('progress refreshes Progressing; no progress past the deadline is ProgressDeadlineExceeded; completion is NewReplicaSetAvailable', () => {
    const d = deployment(2, 1, 1, { progressDeadlineSeconds: 60 });
    const started = new Date(now - 120_000).toISOString().replace(/\.\d+Z$/, 'Z');
    (d as any).status = {
      observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: started, lastTransitionTime: started }],
    };
    const stuckNew = { ...rs('new', 1, 0), status: { replicas: 1, availableReplicas: 0 } } as ReplicaSet;
    const old = rs('old', 2, 2);
    const timedOut = rolloutStatus(d, [old, stuckNew], stuckNew, now).status.conditions!.find((c) => c.type === 'Progressing')!;
    assert.equal(timedOut.reason, 'ProgressDeadlineExceeded');
    assert.equal(timedOut.status, 'False');
    assert.equal(timedOut.message, 'ReplicaSet "new" has timed out progressing.');

    const progressed = { ...stuckNew, status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } } as ReplicaSet;
    const moving = rolloutStatus(d, [old, progressed], progressed, now);
    const cond = moving.status.conditions!.find((c) => c.type === 'Progressing')!;
    assert.equal(cond.reason, 'ReplicaSetUpdated');
    assert.equal(cond.lastTransitionTime, started, 'still True: the transition time stays');
    assert.notEqual(cond.lastUpdateTime, started, 'the deadline restarts');
    assert.ok(moving.recheckAfterMs! > 59_000 && moving.recheckAfterMs! <= 61_000);

    const done = rs('new', 2, 2);
    const complete = rolloutStatus(d, [rs('old', 0, 0), { ...done, status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 } } as ReplicaSet], done, now);
    assert.equal(complete.status.conditions!.find((c) => c.type === 'Progressing')!.reason, 'NewReplicaSetAvailable');
  });

  test('setCondition keeps an unchanged condition and the transition time of the same status', () => {
    const t0 = '2024-01-01T00:00:00Z';
    const conds = [{ type: 'Available', status: 'True', reason: 'A', lastUpdateTime: t0, lastTransitionTime: t0 }];
    assert.deepEqual(setCondition(conds, { type: 'Available', status: 'True', reason: 'A', lastUpdateTime: 'x', lastTransitionTime: 'x' }), conds);
    const changed = setCondition(conds, { type: 'Available', status: 'True', reason: 'B', lastUpdateTime: 'x', lastTransitionTime: 'x' });
    assert.equal(changed[0]!.lastTransitionTime, t0);
    assert.equal(changed[0]!.reason, 'B');
    assert.ok(!deploymentTimedOut(deployment(1), { conditions: [] }, now));
  });
});
