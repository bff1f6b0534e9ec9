// The horizontalpodautoscalers table as Kubernetes 1.32 prints it: REFERENCE kind/name, TARGETS
// `name: current/target` per metric (at most two), MINPODS, MAXPODS, REPLICAS, AGE; v1 objects
// print through their v2 form.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { ago, cells } from './fixtures.js';

const meta = { name: 'web', namespace: 'default', creationTimestamp: ago(300) };
const scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const cpu = (percent: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: percent } } });

void describe('autoscaling horizontalpodautoscalers', () => {
  void test('a new HPA: the current CPU use is not known yet', () => {
    const hpa: HorizontalPodAutoscaler = { metadata: meta, spec: { scaleTargetRef, minReplicas: 1, maxReplicas: 4, metrics: [cpu(50)] }, status: { desiredReplicas: 0 } };
    assert.deepEqual(cells('autoscaling', 'horizontalpodautoscalers', hpa), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', 4, 0, '5m']);
  });

  void test('current use of each metric, an average value target, and only two metrics shown', () => {
    const hpa: HorizontalPodAutoscaler = {
      metadata: meta,
      spec: {
        scaleTargetRef,
        maxReplicas: 10,
        metrics: [cpu(50), { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }, cpu(70)],
      },
      status: {
        currentReplicas: 3,
        desiredReplicas: 3,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '45m' } } },
          { type: 'Resource', resource: { name: 'memory', current: { averageValue: '52428800' } } },
        ],
      },
    };
    assert.deepEqual(cells('autoscaling', 'horizontalpodautoscalers', hpa).slice(2, 6), ['cpu: 45%/50%, memory: 52428800/100Mi + 1 more...', '<unset>', 10, 3]);
  });

  void test('pods, object and external metrics', () => {
    const hpa: HorizontalPodAutoscaler = {
      metadata: meta,
      spec: {
        scaleTargetRef,
        maxReplicas: 3,
        metrics: [
          { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
          { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
        ],
      },
    };
    assert.equal(cells('autoscaling', 'horizontalpodautoscalers', hpa)[2], '<unknown>/1k, <unknown>/30 (avg)');
  });

  void test('an autoscaling/v1 object prints the same row', () => {
    const v1 = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta,
      spec: { scaleTargetRef, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      status: { currentReplicas: 2, desiredReplicas: 2, currentCPUUtilizationPercentage: 12 },
    };
    assert.deepEqual(cells('autoscaling', 'horizontalpodautoscalers', v1), ['web', 'Deployment/web', 'cpu: 12%/80%', '2', 5, 2, '5m']);
  });
});
