// The HPA's arithmetic with made-up pods and metrics, no API server: the usage ratio and its 10%
// tolerance, pods without metrics and pods not ready, AverageValue targets, missing requests,
// then the stabilization window, the scaling policies and the min/max bounds with the conditions
// that explain them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { averageValueReplicas, utilizationReplicas } from '../../controlplane/controllers/podautoscaler/replicas.js';
import type { PodMetric } from '../../controlplane/controllers/podautoscaler/replicas.js';
import { ScalingHistory } from '../../controlplane/controllers/podautoscaler/scaling.js';
import type { NormalizeInput } from '../../controlplane/controllers/podautoscaler/scaling.js';
import { parseGoDuration } from '../../controlplane/controllers/podautoscaler/metrics.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A running pod requesting 100m CPU, ready since `readySinceMs` (started a second before). */
function pod(name: string, options: { readySinceMs?: number; ready?: boolean; phase?: string; cpu?: string | null } = {}): Pod {
  const readySince = options.readySinceMs ?? NOW - 10 * 60_000;
  const requests: Record<string, string> = options.cpu === null ? {} : { cpu: options.cpu ?? '100m', memory: '64Mi' };
  return {
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests } }] },
    status: {
      phase: options.phase ?? 'Running',
      startTime: iso(readySince - 1000),
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True', lastTransitionTime: iso(readySince) }],
    },
  };
}

function usage(entries: Record<string, number>): Map<string, PodMetric> {
  return new Map(Object.entries(entries).map(([name, milli]) => [name, { milliValue: milli, timestampMs: NOW - 5000, windowMs: 10_000 }]));
}

const options = { nowMs: NOW };

describe('replicas for a Utilization target', () => {
  test('usage over target scales by the ratio, rounded up', () => {
    // 90m of 100m = 90% against 50%: ratio 1.8, 2 pods → 4.
    const r = utilizationReplicas(2, 50, 'cpu', [pod('a'), pod('b')], usage({ a: 90, b: 90 }), options);
    assert.deepEqual(r, { replicas: 4, utilization: 90, rawAverageMilli: 90 });
  });

  test('within the 10% tolerance nothing changes', () => {
    assert.equal(utilizationReplicas(2, 50, 'cpu', [pod('a'), pod('b')], usage({ a: 54, b: 54 }), options).replicas, 2);
    assert.equal(utilizationReplicas(2, 50, 'cpu', [pod('a'), pod('b')], usage({ a: 46, b: 46 }), options).replicas, 2);
    assert.equal(utilizationReplicas(2, 50, 'cpu', [pod('a'), pod('b')], usage({ a: 56, b: 56 }), options).replicas, 3);
  });

  test('scaling down: a pod without metrics counts as using its whole request', () => {
    // a and b at 10%: ratio 0.2 → 1 pod if c were ignored; c at 100% makes it (10+10+100)/3 = 40% → 3 × 0.8 = 2.4 → 3: stay.
    const r = utilizationReplicas(3, 50, 'cpu', [pod('a'), pod('b'), pod('c')], usage({ a: 10, b: 10 }), options);
    assert.equal(r.replicas, 3);
    assert.equal(r.utilization, 10, 'the status shows what was measured');
  });

  test('scaling up: a pod without metrics counts as idle', () => {
    // a at 200%: ratio 4 → with b at 0: 100% / 50% = 2 → ceil(2 × 2) = 4.
    assert.equal(utilizationReplicas(2, 50, 'cpu', [pod('a'), pod('b')], usage({ a: 200 }), options).replicas, 4);
  });

  test('an unready pod is left out, and counted as idle when the others ask to scale up', () => {
    const pods = [pod('a'), pod('b', { ready: false, readySinceMs: NOW - 60_000 })];
    // a at 100%, b (unready) reports 500m: b is ignored, then counted at 0 → 50% → ratio 1: stay.
    assert.equal(utilizationReplicas(2, 50, 'cpu', pods, usage({ a: 100, b: 500 }), options).replicas, 2);
    // a at 200%: (200 + 0) / 200 = 100% → ratio 2 → 4.
    assert.equal(utilizationReplicas(2, 50, 'cpu', pods, usage({ a: 200, b: 500 }), options).replicas, 4);
  });

  test('a pending pod, and a CPU sample taken before the pod became ready, are not trusted', () => {
    const justReady = pod('b', { readySinceMs: NOW - 2000 }); // sample at NOW-5s predates readiness + window
    const r = utilizationReplicas(2, 50, 'cpu', [pod('a'), justReady, pod('c', { phase: 'Pending' })], usage({ a: 40, b: 900 }), options);
    assert.equal(r.utilization, 40);
    // Memory is trusted whatever the readiness.
    const m = utilizationReplicas(2, 50, 'memory', [pod('a', { cpu: '100m' }), justReady], new Map([['b', { milliValue: 64 * 1024 * 1024 * 1000, timestampMs: NOW, windowMs: 0 }]]), options);
    assert.equal(m.utilization, 100);
  });

  test('errors say what Kubernetes says', () => {
    assert.throws(() => utilizationReplicas(1, 50, 'cpu', [], usage({}), options), /^Error: no pods returned by selector while calculating replica count$/);
    assert.throws(() => utilizationReplicas(1, 50, 'cpu', [pod('a', { cpu: null })], usage({ a: 10 }), options), /missing request for cpu in container app of Pod a/);
    assert.throws(() => utilizationReplicas(1, 50, 'cpu', [pod('a', { phase: 'Pending' })], usage({ a: 10 }), options), /did not receive metrics for targeted pods \(pods might be unready\)/);
  });
});

describe('replicas for an AverageValue target', () => {
  test('average usage per pod against the target', () => {
    assert.deepEqual(averageValueReplicas(2, 100, 'cpu', [pod('a'), pod('b')], usage({ a: 300, b: 100 }), options), { replicas: 4, averageMilli: 200 });
    assert.equal(averageValueReplicas(2, 100, 'cpu', [pod('a'), pod('b')], usage({ a: 105, b: 100 }), options).replicas, 2);
  });
});

function input(over: Partial<NormalizeInput>): NormalizeInput {
  return { key: 'default/web', currentReplicas: 2, desiredReplicas: 2, minReplicas: 1, maxReplicas: 10, behavior: undefined, ...over };
}

const DEFAULT_BEHAVIOR = {
  scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
  scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
};

describe('stabilization, policies and bounds', () => {
  test('scaling down waits for the highest recommendation of the last 5 minutes', () => {
    let now = NOW;
    const history = new ScalingHistory(() => now);
    history.recordInitial('default/web', 4);
    const first = history.normalize(input({ currentReplicas: 4, desiredReplicas: 1 }));
    assert.equal(first.replicas, 4);
    assert.deepEqual(first.conditions[0], { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' });
    now += 5 * 60_000 + 1;
    assert.equal(history.normalize(input({ currentReplicas: 4, desiredReplicas: 1 })).replicas, 1);
  });

  test('a behavior with its own scale-down window', () => {
    let now = NOW;
    const history = new ScalingHistory(() => now);
    const behavior = { ...DEFAULT_BEHAVIOR, scaleDown: { ...DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 30 } };
    history.recordInitial('default/web', 4);
    assert.equal(history.normalize(input({ currentReplicas: 4, desiredReplicas: 2, behavior })).replicas, 4);
    now += 31_000;
    assert.equal(history.normalize(input({ currentReplicas: 4, desiredReplicas: 2, behavior })).replicas, 2);
  });

  test('default policies: up by 4 pods or 100% per 15 s, whichever is more; the period remembers what was added', () => {
    let now = NOW;
    const history = new ScalingHistory(() => now);
    const up = history.normalize(input({ currentReplicas: 1, desiredReplicas: 10, behavior: DEFAULT_BEHAVIOR }));
    assert.equal(up.replicas, 5);
    assert.deepEqual(up.conditions[1], { type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
    history.recordScale('default/web', DEFAULT_BEHAVIOR, 1, 5);
    now += 5000;
    // Within the same 15 s the period started at 1 replica: at most 5 (or 2 × 1).
    assert.equal(history.normalize(input({ currentReplicas: 5, desiredReplicas: 10, behavior: DEFAULT_BEHAVIOR })).replicas, 5);
    now += 11_000;
    assert.equal(history.normalize(input({ currentReplicas: 5, desiredReplicas: 10, behavior: DEFAULT_BEHAVIOR })).replicas, 10);
  });

  test('without a behavior: up to max(2 × current, 4) per sync', () => {
    const history = new ScalingHistory(() => NOW);
    assert.equal(history.normalize(input({ currentReplicas: 1, desiredReplicas: 10 })).replicas, 4);
    assert.equal(history.normalize(input({ currentReplicas: 3, desiredReplicas: 10 })).replicas, 6);
  });

  test('min and max bound the result, and say so', () => {
    const history = new ScalingHistory(() => NOW);
    const high = history.normalize(input({ currentReplicas: 2, desiredReplicas: 5, maxReplicas: 3, behavior: DEFAULT_BEHAVIOR }));
    assert.equal(high.replicas, 3);
    assert.deepEqual(high.conditions[1], { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
    const low = new ScalingHistory(() => NOW).normalize(input({ currentReplicas: 3, desiredReplicas: 1, minReplicas: 2, behavior: { ...DEFAULT_BEHAVIOR, scaleDown: { ...DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 0 } } }));
    assert.equal(low.replicas, 2);
    assert.equal(low.conditions[1]?.reason, 'TooFewReplicas');
    const within = new ScalingHistory(() => NOW).normalize(input({ currentReplicas: 2, desiredReplicas: 3, behavior: DEFAULT_BEHAVIOR }));
    assert.deepEqual([within.replicas, within.conditions[1]?.status, within.conditions[1]?.reason], [3, 'False', 'DesiredWithinRange']);
  });

  test('a Pods policy limits scaling down; Disabled stops it', () => {
    const behavior = { ...DEFAULT_BEHAVIOR, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    const history = new ScalingHistory(() => NOW);
    const down = history.normalize(input({ currentReplicas: 5, desiredReplicas: 1, behavior }));
    assert.deepEqual([down.replicas, down.conditions[1]?.reason], [4, 'ScaleDownLimit']);
    const disabled = { ...behavior, scaleDown: { ...behavior.scaleDown, selectPolicy: 'Disabled' } };
    assert.equal(new ScalingHistory(() => NOW).normalize(input({ currentReplicas: 5, desiredReplicas: 1, behavior: disabled })).replicas, 5);
  });
});

test('metrics windows in Go duration form', () => {
  assert.deepEqual(['10s', '1m0s', '1.5s', '500ms', '1h2m3s'].map(parseGoDuration), [10_000, 60_000, 1500, 500, 3_723_000]);
});
