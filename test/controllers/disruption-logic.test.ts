// The disruption controller's arithmetic with plain objects, no API server: expected pods from
// the pods (integer minAvailable) or from their controllers' replicas (percentages,
// maxUnavailable), healthy pods, disruptions allowed and the DisruptionAllowed condition, the
// disruptedPods entries an eviction leaves and when they go, the fail-safe status, and when a
// DisruptionTarget condition is stale.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import {
  ExpectedCountError,
  budgetStatus,
  countHealthy,
  expectedPodCount,
  failedStatus,
  keptDisruptions,
} from '../../controlplane/controllers/disruption/budget.js';
import type { ScaleFinder } from '../../controlplane/controllers/disruption/budget.js';
import { staleDisruptionWaitMs } from '../../api/disruption-target.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string, options: { ready?: boolean; owner?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      ...(options.owner === undefined ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: options.owner, uid: options.owner, controller: true }] }),
      ...(options.deleting ? { deletionTimestamp: iso(NOW) } : {}),
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function budget(spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status']): PodDisruptionBudget & { metadata: { generation: number } } {
  return { metadata: { name: 'web', generation: 2 }, spec, ...(status ? { status } : {}) };
}

/** Each pod's ReplicaSet wants `replicas` pods. */
const replicasOf =
  (replicas: Record<string, number>): ScaleFinder =>
  (p) => {
    const owner = p.metadata?.ownerReferences?.[0]?.uid;
    return owner !== undefined && owner in replicas ? { uid: owner, replicas: replicas[owner]! } : undefined;
  };

describe('expected and desired pods', () => {
  test('an integer minAvailable counts the pods there are, controller or not', () => {
    const pods = [pod('a'), pod('b'), pod('c', { owner: 'rs' })];
    assert.deepEqual(expectedPodCount(budget({ minAvailable: 2 }), pods, replicasOf({})), { expectedPods: 3, desiredHealthy: 2, unmanagedPods: [] });
  });

  test('a percentage counts the controllers’ replicas once each, rounding up', () => {
    const pods = [pod('a', { owner: 'rs' }), pod('b', { owner: 'rs' })];
    assert.deepEqual(expectedPodCount(budget({ minAvailable: '50%' }), pods, replicasOf({ rs: 5 })), { expectedPods: 5, desiredHealthy: 3, unmanagedPods: [] });
  });

  test('maxUnavailable subtracts from the replicas, never below zero', () => {
    const pods = [pod('a', { owner: 'rs' }), pod('b', { owner: 'other' })];
    assert.deepEqual(expectedPodCount(budget({ maxUnavailable: 1 }), pods, replicasOf({ rs: 3, other: 1 })).desiredHealthy, 3);
    assert.equal(expectedPodCount(budget({ maxUnavailable: '100%' }), pods, replicasOf({ rs: 3, other: 1 })).desiredHealthy, 0);
  });

  test('pods without a controller are reported; a controller of unknown scale fails the sync', () => {
    assert.deepEqual(expectedPodCount(budget({ maxUnavailable: 1 }), [pod('lonely')], replicasOf({})).unmanagedPods, ['lonely']);
    assert.throws(() => expectedPodCount(budget({ maxUnavailable: 1 }), [pod('a', { owner: 'gone' })], replicasOf({})), ExpectedCountError);
  });
});

describe('healthy pods and disruptions allowed', () => {
  test('Ready pods count, unless being deleted or evicted within the last 2 minutes', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { deleting: true }), pod('d'), pod('e')];
    const disrupted = { d: iso(NOW - 60_000), e: iso(NOW - 3 * 60_000) };
    assert.equal(countHealthy(pods, disrupted, NOW), 2);
  });

  test('allowed = healthy − desired, with SufficientPods; none when short, with InsufficientPods', () => {
    const pdb = budget({ minAvailable: 2 });
    const enough = budgetStatus(pdb, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disrupted: {} }, NOW);
    assert.deepEqual(enough, {
      observedGeneration: 2,
      disruptionsAllowed: 1,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: iso(NOW) }],
    });
    const short = budgetStatus({ ...pdb, status: enough }, { currentHealthy: 1, desiredHealthy: 2, expectedPods: 3, disrupted: {} }, NOW + 1000);
    assert.equal(short.disruptionsAllowed, 0);
    assert.deepEqual(short.conditions?.[0], { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 2, lastTransitionTime: iso(NOW + 1000) });
  });

  test('a budget that expects no pods allows nothing; an unchanged condition keeps its transition time', () => {
    assert.equal(budgetStatus(budget({ minAvailable: 0 }), { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disrupted: {} }, NOW).disruptionsAllowed, 0);
    const first = budgetStatus(budget({ minAvailable: 1 }), { currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, disrupted: {} }, NOW);
    const again = budgetStatus(budget({ minAvailable: 1 }, first), { currentHealthy: 2, desiredHealthy: 1, expectedPods: 3, disrupted: {} }, NOW + 5000);
    assert.equal(again.conditions?.[0]?.lastTransitionTime, iso(NOW));
  });
});

describe('disruptedPods bookkeeping', () => {
  test('entries stay while their pod is there and the eviction is recent; the earliest expiry is the recheck time', () => {
    const pdb = budget({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: { a: iso(NOW - 30_000), b: iso(NOW - 60_000), gone: iso(NOW), old: iso(NOW - 3 * 60_000), c: iso(NOW) } });
    const pods = [pod('a'), pod('b'), pod('old'), pod('c', { deleting: true })];
    assert.deepEqual(keptDisruptions(pdb, pods, NOW), { disrupted: { a: iso(NOW - 30_000), b: iso(NOW - 60_000) }, recheckAtMs: NOW + 60_000 });
  });
});

describe('a failed sync', () => {
  test('allows no disruptions and says why with SyncFailed', () => {
    const pdb = budget({ maxUnavailable: 1 }, { disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, observedGeneration: 2 });
    const status = failedStatus(pdb, 'found no controllers for pod "a"', NOW);
    assert.equal(status.disruptionsAllowed, 0);
    assert.deepEqual(status.conditions, [
      { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "a"', observedGeneration: 2, lastTransitionTime: iso(NOW) },
    ]);
  });
});

describe('stale DisruptionTarget conditions', () => {
  const TIMEOUT = 120_000;
  const marked = (since: number, extra: { reason?: string; status?: string; phase?: string; deleting?: boolean } = {}): Pod => ({
    metadata: { name: 'p', ...(extra.deleting ? { deletionTimestamp: iso(NOW) } : {}) },
    status: {
      phase: extra.phase ?? 'Running',
      conditions: [{ type: 'DisruptionTarget', status: extra.status ?? 'True', reason: extra.reason ?? 'EvictionByEvictionAPI', lastTransitionTime: iso(since) }],
    },
  });

  test('a condition set less than the timeout ago becomes stale when the timeout is reached', () => {
    assert.equal(staleDisruptionWaitMs(marked(NOW - 20_000), NOW, TIMEOUT), 100_000);
    assert.equal(staleDisruptionWaitMs(marked(NOW - 120_000), NOW, TIMEOUT), 0);
    assert.equal(staleDisruptionWaitMs(marked(NOW - 600_000), NOW, TIMEOUT), 0);
  });

  test('never stale: being deleted, ended, not True, set by the kubelet, or absent', () => {
    const old = NOW - 600_000;
    assert.equal(staleDisruptionWaitMs(marked(old, { deleting: true }), NOW, TIMEOUT), undefined);
    assert.equal(staleDisruptionWaitMs(marked(old, { phase: 'Failed' }), NOW, TIMEOUT), undefined);
    assert.equal(staleDisruptionWaitMs(marked(old, { phase: 'Succeeded' }), NOW, TIMEOUT), undefined);
    assert.equal(staleDisruptionWaitMs(marked(old, { status: 'False' }), NOW, TIMEOUT), undefined);
    assert.equal(staleDisruptionWaitMs(marked(old, { reason: 'TerminationByKubelet' }), NOW, TIMEOUT), undefined);
    assert.equal(staleDisruptionWaitMs(pod('plain'), NOW, TIMEOUT), undefined);
  });
});
