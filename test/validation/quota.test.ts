// LimitRange and ResourceQuota validation as kube-apiserver 1.32 applies it (after the
// LimitRange's own defaulting: a Container item's default limit from max, default request from
// the default limit or min), and Skiff's refusal of quota scopes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, prepared, resource, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const LIMIT_RANGE = resource('', 'LimitRange');
const QUOTA = resource('', 'ResourceQuota');

function limitRange(item: Loose): Loose {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits', namespace: 'default' }, spec: { limits: [item] } };
}

function quota(hard: Loose): Loose {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard } };
}

describe('LimitRange validation', () => {
  test('a Container item is defaulted from max and min; valid items pass', () => {
    const lr = prepared(LIMIT_RANGE, limitRange({ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { memory: '0.5Gi' } }));
    assert.deepEqual(lr.spec.limits[0], { type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2', memory: '512Mi' }, defaultRequest: { cpu: '2', memory: '512Mi' } });
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Pod', max: { cpu: '4' }, maxLimitRequestRatio: { cpu: '2' } })), []);
  });

  test('min ≤ defaultRequest ≤ default ≤ max', () => {
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } })), [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
    ]);
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Container', default: { cpu: '1' }, defaultRequest: { cpu: '2' } })), [
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "2": default request value 2 is greater than default limit value 1',
    ]);
  });

  test('types, resource names, Pod defaults, ratios and duplicates', () => {
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Node', max: { cpu: '1' } })), ['spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified']);
    // Defaulting copied max to default and defaultRequest: each is reported, as in Kubernetes.
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Container', max: { pods: '1' } })), [
      'spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers',
      'spec.limits[0].default[pods]: Invalid value: "pods": must be a standard resource for containers',
      'spec.limits[0].defaultRequest[pods]: Invalid value: "pods": must be a standard resource for containers',
    ]);
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Pod', default: { cpu: '1' } })), ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"]);
    assert.deepEqual(createErrors(LIMIT_RANGE, limitRange({ type: 'Pod', maxLimitRequestRatio: { cpu: '500m' } })), ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1']);
    const twice = limitRange({ type: 'Pod', max: { cpu: '1' } });
    twice.spec.limits.push({ type: 'Pod', max: { memory: '1Gi' } });
    assert.deepEqual(createErrors(LIMIT_RANGE, twice), ['spec.limits[1].type: Duplicate value: "Pod"']);
  });
});

describe('ResourceQuota validation', () => {
  test('standard names, object counts and compute resources pass', () => {
    assert.deepEqual(createErrors(QUOTA, quota({ pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi', 'count/deployments.apps': '3', configmaps: '5' })), []);
  });

  test('names, signs and whole numbers', () => {
    assert.deepEqual(createErrors(QUOTA, quota({ widgets: '1' })), [
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
    ]);
    assert.deepEqual(createErrors(QUOTA, quota({ 'requests.cpu': '-1' })), ['spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0']);
    assert.deepEqual(createErrors(QUOTA, quota({ pods: '1500m' })), ['spec.hard[pods]: Invalid value: "1500m": must be an integer']);
  });

  test('scopes are refused (Skiff does not support them)', () => {
    const scoped = changed(quota({ pods: '1' }), (q: Loose) => (q.spec.scopes = ['BestEffort']));
    assert.deepEqual(createErrors(QUOTA, scoped), ['spec.scopes: Forbidden: quota scopes are not supported by Skiff']);
  });

  test('spec updates and status updates', () => {
    const old = { ...quota({ pods: '1' }), metadata: { name: 'q', namespace: 'default', resourceVersion: '1', uid: 'u' } };
    assert.deepEqual(updateErrors(QUOTA, changed(old, (q: Loose) => (q.spec.hard.pods = '2')), old), []);
    assert.deepEqual(statusErrors(QUOTA, changed(old, (q: Loose) => (q.status = { hard: { pods: '1' }, used: { pods: '-1' } })), old), [
      'status.used[pods]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
  });
});
