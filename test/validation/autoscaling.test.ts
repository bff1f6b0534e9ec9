// HorizontalPodAutoscaler defaulting and validation as kube-apiserver 1.32 applies them, in both
// served versions: v2 defaults (minReplicas, the 80% CPU metric, a given behavior filled in),
// v1's implicit CPU target, and Kubernetes' messages for bounds, the target reference, metric
// sources and targets, and scaling policies.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RESOURCES } from '../../api/resources.js';
import { changed, createErrors, prepared, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const V2 = RESOURCES.find((r) => r.group === 'autoscaling' && r.version === 'v2' && r.kind === 'HorizontalPodAutoscaler')!;
const V1 = RESOURCES.find((r) => r.group === 'autoscaling' && r.version === 'v1' && r.kind === 'HorizontalPodAutoscaler')!;

function hpa(): Loose {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
  };
}

function hpaV1(): Loose {
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
  };
}

describe('HorizontalPodAutoscaler defaults', () => {
  test('minReplicas 1; without metrics, 80% CPU; no behavior unless one is given', () => {
    const spec = prepared(V2, changed(hpa(), (h) => delete h.spec.metrics)).spec;
    assert.equal(spec.minReplicas, 1);
    assert.deepEqual(spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    assert.equal(spec.behavior, undefined);
  });

  test('a behavior is completed with the default policies; what was given is kept', () => {
    const spec = prepared(V2, changed(hpa(), (h) => (h.spec.behavior = { scaleDown: { stabilizationWindowSeconds: 60 } }))).spec;
    assert.deepEqual(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    });
    assert.deepEqual(spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  });

  test('target quantities are stored in canonical form', () => {
    const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '0.5Gi' } } };
    const spec = prepared(V2, changed(hpa(), (h) => (h.spec.metrics = [memory]))).spec;
    assert.equal(spec.metrics[0].resource.target.averageValue, '512Mi');
  });

  test('autoscaling/v1: minReplicas 1 and the implicit 80% CPU target', () => {
    const spec = prepared(V1, changed(hpaV1(), (h) => delete h.spec.targetCPUUtilizationPercentage)).spec;
    assert.equal(spec.minReplicas, 1);
    assert.equal(spec.targetCPUUtilizationPercentage, 80);
  });
});

describe('HorizontalPodAutoscaler validation', () => {
  test('a defaulted HPA is valid, in both versions', () => {
    assert.deepEqual(createErrors(V2, hpa()), []);
    assert.deepEqual(createErrors(V1, hpaV1()), []);
  });

  test('replica bounds', () => {
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => Object.assign(h.spec, { minReplicas: 5, maxReplicas: 2 }))), [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    ]);
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => Object.assign(h.spec, { minReplicas: 0, maxReplicas: 0 }))), [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    ]);
  });

  test('scaleTargetRef: kind and name are required and must be path segments', () => {
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => delete h.spec.scaleTargetRef)), ['spec.scaleTargetRef.kind: Required value', 'spec.scaleTargetRef.name: Required value']);
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.scaleTargetRef.name = 'a/b'))), [
      `spec.scaleTargetRef.name: Invalid value: "a/b": may not contain '/'`,
    ]);
  });

  test('metric sources: type, the matching source, one source only', () => {
    const resource = hpa().spec.metrics[0].resource;
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.metrics = [{ type: 'Pods', resource }]))), [
      'spec.metrics[0].pods: Required value: must populate information for the given metric source',
    ]);
    const pods = { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } };
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.metrics = [{ type: 'Pods', resource, pods }]))), [
      'spec.metrics[0].resource: Forbidden: must populate the given metric source only',
    ]);
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.metrics = [{ type: 'Bogus' }]))), [
      'spec.metrics[0].type: Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
    ]);
  });

  test('metric targets', () => {
    const target = (t: object) => changed(hpa(), (h) => (h.spec.metrics[0].resource.target = t));
    assert.deepEqual(createErrors(V2, target({ type: 'Utilization', averageUtilization: 0 })), [
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]);
    assert.deepEqual(createErrors(V2, target({ type: 'Utilization' })), [
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    ]);
    assert.deepEqual(createErrors(V2, target({ type: 'Percent', averageUtilization: 50, averageValue: '100m' })), [
      'spec.metrics[0].resource.target.type: Invalid value: "Percent": must be either Utilization, Value, or AverageValue',
      'spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization',
    ]);
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.metrics = [{ type: 'Pods', pods: { metric: {}, target: { type: 'AverageValue', averageValue: '-1' } } }]))), [
      'spec.metrics[0].pods.metric.name: Required value: must specify a metric name',
      'spec.metrics[0].pods.target.averageValue: Invalid value: "-1": must be positive',
    ]);
  });

  test('an autoscaling/v1 target is checked as the v2 metric it stands for', () => {
    assert.deepEqual(createErrors(V1, changed(hpaV1(), (h) => (h.spec.targetCPUUtilizationPercentage = 0))), [
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]);
  });

  test('scaling policies', () => {
    const behavior = { scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Fastest', policies: [{ type: 'Pods', value: 0, periodSeconds: 1801 }] }, scaleDown: { policies: [] } };
    assert.deepEqual(createErrors(V2, changed(hpa(), (h) => (h.spec.behavior = behavior))), [
      'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Fastest": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
      'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
    ]);
  });

  test('updates check the spec again; status counts may not be negative', () => {
    assert.deepEqual(updateErrors(V2, changed(hpa(), (h) => (h.spec.maxReplicas = 0)), hpa()), [
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`',
    ]);
    assert.deepEqual(statusErrors(V2, changed(hpa(), (h) => (h.status = { desiredReplicas: -1 })), hpa()), ['status.desiredReplicas: Invalid value: -1: must be greater than or equal to 0']);
  });
});
