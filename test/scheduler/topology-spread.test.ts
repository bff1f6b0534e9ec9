// PodTopologySpread: DoNotSchedule constraints filter, ScheduleAnyway constraints score.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { podTopologySpread, podTopologySpreadScore } from '../../controlplane/scheduler/filters/topology-spread.js';
import { placePod } from '../../controlplane/scheduler/placement.js';
import { DEFAULT_PROFILE } from '../../controlplane/scheduler/profile.js';
import { cacheOf, info, node, pod } from './fixtures.js';

const spread = (overrides: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1,
  topologyKey: 'zone',
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...overrides,
});

const web = (name: string, nodeName?: string, constraints: TopologySpreadConstraint[] = [spread()]): Pod =>
  pod(name, { labels: { app: 'web' }, nodeName, spec: { topologySpreadConstraints: constraints } });

const zones = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } })];

describe('PodTopologySpread', () => {
  test('DoNotSchedule refuses the domain that would exceed maxSkew, and nodes without the key', () => {
    const cache = cacheOf([...zones, node('nozone')], [web('w1', 'a1'), web('w2', 'a2')]);
    const check = podTopologySpread.forPod(info(web('new')), cache)!;
    // zone a has 2, zone b has 0: a third in zone a would make the skew 3 - 0 > 1.
    assert.deepEqual(check(cache.nodeInfo('a1')!), ["node(s) didn't match pod topology spread constraints"]);
    assert.deepEqual(check(cache.nodeInfo('b1')!), []);
    assert.deepEqual(check(cache.nodeInfo('nozone')!), ["node(s) didn't match pod topology spread constraints (missing required label)"]);
  });

  test('pods of other namespaces or not matching the selector are not counted; pods without constraints are not judged', () => {
    const cache = cacheOf(zones, [pod('other', { labels: { app: 'db' }, nodeName: 'a1' }), pod('elsewhere', { namespace: 'x', labels: { app: 'web' }, nodeName: 'a1' })]);
    const check = podTopologySpread.forPod(info(web('new')), cache)!;
    assert.deepEqual(check(cache.nodeInfo('a1')!), []);
    assert.equal(podTopologySpread.forPod(info(pod('plain')), cache), undefined);
  });

  test('minDomains: with fewer domains than asked, the minimum counts as 0', () => {
    const cache = cacheOf(zones, [web('w1', 'b1')]);
    const check = podTopologySpread.forPod(info(web('new', undefined, [spread({ minDomains: 3 })])), cache)!;
    // Two domains exist (< 3): b already has 1, so another there has skew 2 - 0 > 1.
    assert.deepEqual(check(cache.nodeInfo('b1')!), ["node(s) didn't match pod topology spread constraints"]);
    assert.deepEqual(check(cache.nodeInfo('a1')!), []);
  });

  test('placement reports the constraint in the unschedulable message and spreads a burst', () => {
    const cache = cacheOf([node('a1', { labels: { zone: 'a' } }), node('nolabel')], [web('w1', 'a1'), web('w2', 'a1')]);
    const result = placePod(info(web('new', undefined, [spread({ maxSkew: 1 })])), cache, DEFAULT_PROFILE);
    assert.equal(result.fits, true, 'a single domain never has skew');
    const twoZones = cacheOf(zones, [web('w1', 'a1')]);
    const placed = placePod(info(web('new')), twoZones, DEFAULT_PROFILE);
    assert.ok(placed.fits && placed.node.name === 'b1');
  });

  test('ScheduleAnyway prefers the emptier domain but never refuses', () => {
    const cache = cacheOf(zones, [web('w1', 'a1'), web('w2', 'a2')]);
    const p = web('new', undefined, [spread({ whenUnsatisfiable: 'ScheduleAnyway' })]);
    assert.equal(podTopologySpread.forPod(info(p), cache), undefined);
    const scorer = podTopologySpreadScore.forPod(info(p), cache)!;
    const scores = ['a1', 'a2', 'b1'].map((n) => scorer.score(cache.nodeInfo(n)!));
    scorer.normalize!(scores);
    assert.ok(scores[2]! > scores[0]! && scores[2]! > scores[1]!, `zone b scores best: ${scores}`);
  });
});
