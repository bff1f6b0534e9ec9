// Scores, the choice of a node, the "0/N nodes are available" message, the cache's assumptions
// and the scheduling queue: plain objects, no network.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitErrorMessage } from '../../controlplane/scheduler/fit-error.js';
import type { ClusterView, ScorePlugin } from '../../controlplane/scheduler/framework.js';
import { numFeasibleNodesToFind, placePod } from '../../controlplane/scheduler/placement.js';
import { DEFAULT_PROFILE } from '../../controlplane/scheduler/profile.js';
import { SchedulingQueue } from '../../controlplane/scheduler/queue.js';
import { leastAllocatedScore } from '../../controlplane/scheduler/scores/least-allocated.js';
import { nodeAffinityPreferenceScore } from '../../controlplane/scheduler/scores/node-affinity-preference.js';
import { ownerSpreadScore } from '../../controlplane/scheduler/scores/owner-spread.js';
import { taintPreferenceScore } from '../../controlplane/scheduler/scores/taint-preference.js';
import { cacheOf, info, node, nodeInfo, pod } from './fixtures.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../../controlplane/scheduler/node-info.js';

/** Normalized scores of `plugin` for pod `p` over `nodes` (of `cluster`, when the plugin asks it). */
function scores(plugin: ScorePlugin, p: Pod, nodes: readonly NodeInfo[], cluster: ClusterView = cacheOf([])): number[] | undefined {
  const scorer = plugin.forPod(info(p), cluster);
  if (!scorer) return undefined;
  const raw = nodes.map((n) => scorer.score(n));
  scorer.normalize?.(raw);
  return raw;
}

describe('scores', () => {
  test('least allocated prefers the emptier node, counting request-less containers at 100m/200Mi', () => {
    const busy = nodeInfo(node('busy'), pod('a', { cpu: '3', memory: '6Gi', nodeName: 'busy' }));
    const idle = nodeInfo(node('idle'));
    const [b, i] = scores(leastAllocatedScore, pod('p', { cpu: '500m', memory: '1Gi' }), [busy, idle])!;
    assert.ok(i! > b!, `${i} > ${b}`);
    assert.equal(i, 87); // cpu (4000m - 500m) / 4000m and memory (8Gi - 1Gi) / 8Gi: 87.5, rounded down
    const noRequests = nodeInfo(node('n', { cpu: '1', memory: '1Gi' }), pod('x', { nodeName: 'n' }));
    assert.equal(noRequests.nonZeroMilliCpu, 100);
    assert.equal(noRequests.nonZeroMemory, 200 * 1024 * 1024);
  });

  test('owner spread prefers nodes with fewer pods of the same controller', () => {
    const cluster = cacheOf(
      [node('n1'), node('n2'), node('n3')],
      [pod('a', { owner: 'rs', nodeName: 'n1' }), pod('b', { owner: 'rs', nodeName: 'n1' }), pod('c', { owner: 'rs', nodeName: 'n2' }), pod('d', { owner: 'other', nodeName: 'n2' })],
    );
    assert.deepEqual(scores(ownerSpreadScore, pod('p', { owner: 'rs' }), cluster.nodeList, cluster), [0, 50, 100]);
    assert.deepEqual(scores(ownerSpreadScore, pod('p', { owner: 'other' }), cluster.nodeList, cluster), [100, 0, 100]);
    assert.equal(scores(ownerSpreadScore, pod('p'), cluster.nodeList, cluster), undefined);
  });

  test('PreferNoSchedule taints lower a node unless tolerated', () => {
    // nodeList is in name order: clean, then tainted.
    const cluster = cacheOf([node('tainted', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }), node('clean')]);
    assert.deepEqual(scores(taintPreferenceScore, pod('p'), cluster.nodeList, cluster), [100, 0]);
    const tolerant = pod('p', { spec: { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] } });
    assert.deepEqual(scores(taintPreferenceScore, tolerant, cluster.nodeList, cluster), [100, 100]);
  });

  test('preferred node affinity adds the weights of matching terms', () => {
    const p = pod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
              { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
            ],
          },
        },
      },
    });
    const nodes = [nodeInfo(node('a', { labels: { disk: 'ssd' } })), nodeInfo(node('b', { labels: { disk: 'ssd', zone: 'a' } })), nodeInfo(node('c'))];
    assert.deepEqual(scores(nodeAffinityPreferenceScore, p, nodes), [25, 100, 0]);
  });
});

describe('placement', () => {
  test('the message counts the reasons of the first filter that refused each node, sorted', () => {
    const cache = cacheOf([
      node('n1', { ready: 'Unknown' }),
      node('n2', { labels: { zone: 'b' } }),
      node('n3', { labels: { zone: 'b' } }),
    ]);
    const result = placePod(info(pod('p', { spec: { nodeSelector: { zone: 'a' } } })), cache, DEFAULT_PROFILE);
    assert.equal(result.fits, false);
    assert.equal(
      !result.fits && result.message,
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) didn't match Pod's node affinity/selector.",
    );
    const full = placePod(info(pod('p', { cpu: '5' })), cacheOf([node('a'), node('b')]), DEFAULT_PROFILE);
    assert.equal(!full.fits && full.message, '0/2 nodes are available: 2 Insufficient cpu.');
    assert.equal(fitErrorMessage(0, new Map()), 'no nodes available to schedule pods');
  });

  test('a burst of one owner spreads over the nodes when each placement is assumed', () => {
    const cache = cacheOf([node('n1'), node('n2'), node('n3')]);
    let start = 0;
    for (let i = 0; i < 9; i++) {
      const p = info(pod(`web-${i}`, { owner: 'rs', cpu: '100m' }));
      const result = placePod(p, cache, DEFAULT_PROFILE, start);
      assert.ok(result.fits);
      start = result.nextStart;
      cache.assume(p, result.node.name);
    }
    assert.deepEqual(cache.nodeList.map((n) => cache.ownerPodsPerNode('uid-rs').get(n)), [3, 3, 3]);
    // A failed binding forgets the assumption; a confirmed one replaces it.
    cache.forget('default/web-0');
    assert.equal(cache.nodeList.reduce((sum, n) => sum + n.podCount, 0), 8);
    cache.setBoundPod(pod('web-1', { owner: 'rs', cpu: '100m', nodeName: 'n3' }));
    cache.forget('default/web-1');
    assert.equal(cache.nodeOfPod('default/web-1')?.name, 'n3');
  });

  test('with many nodes only enough feasible ones are looked at, starting where the last pod stopped', () => {
    assert.equal(numFeasibleNodesToFind(50), 50);
    assert.equal(numFeasibleNodesToFind(1000), 420);
    assert.equal(numFeasibleNodesToFind(5000), 500);
    const nodes = Array.from({ length: 200 }, (_, i) => node(`n${String(i).padStart(3, '0')}`));
    const cache = cacheOf(nodes);
    const first = placePod(info(pod('a')), cache, DEFAULT_PROFILE, 0);
    assert.equal(first.nextStart, 100); // 200 nodes: 50 - 1 = 49 % → 98, at least 100
    const second = placePod(info(pod('b')), cache, DEFAULT_PROFILE, first.nextStart);
    assert.equal(second.nextStart, 0);
  });
});

describe('scheduling queue', () => {
  test('pending pods come out in order, once each', async () => {
    const q = new SchedulingQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(await q.pop(), 'a');
    assert.equal(await q.pop(), 'b');
    const next = q.pop();
    q.add('c');
    assert.equal(await next, 'c');
    q.close();
    assert.equal(await q.pop(), undefined);
  });

  test('the queue keeps arrival order: a pod that left and came back goes to the end; one that left is not popped', async () => {
    const q = new SchedulingQueue({ initialBackoffMs: 1 });
    for (const key of ['a', 'b', 'c', 'd']) q.add(key);
    q.done('b'); // bound or deleted meanwhile
    q.failed('a', false); // its binding failed: back after its back-off
    q.add('c'); // already waiting: keeps its place
    q.add('a'); // changed while parked: comes back now, behind the others
    const popped: (string | undefined)[] = [];
    while (q.activeLength > 0) popped.push(await q.pop());
    assert.deepEqual(popped, ['c', 'd', 'a']);
    // A large backlog comes out whole and in order.
    const keys = Array.from({ length: 50_000 }, (_, i) => `ns/pod-${i}`);
    for (const key of keys) q.add(key);
    for (let i = 0; i < keys.length; i += 7) q.done(keys[i]!);
    const rest: string[] = [];
    while (q.activeLength > 0) rest.push((await q.pop())!);
    assert.deepEqual(rest, keys.filter((_, i) => i % 7 !== 0));
    q.close();
  });

  test('an unschedulable pod waits for a cluster change (after its back-off) or its periodic retry', async () => {
    let now = 0;
    const q = new SchedulingQueue({ initialBackoffMs: 20, maxBackoffMs: 40, maxRetryMs: 5000, now: () => now });
    q.failed('p', true);
    assert.equal(q.activeLength, 0);
    now = 30;
    q.moveAllToActive();
    assert.equal(await q.pop(), 'p');
    q.failed('p', true); // second failure: back-off 40 ms
    now = 40;
    q.moveAllToActive(); // too soon: comes back when the back-off ends
    assert.equal(q.activeLength, 0);
    assert.equal(await q.pop(), 'p');
    q.failed('p', true);
    q.done('p');
    assert.equal(q.parkedLength, 0);
    q.close();
  });
});
