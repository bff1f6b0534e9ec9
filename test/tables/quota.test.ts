// The resourcequotas table as Kubernetes 1.32 prints it: NAME AGE REQUEST LIMIT, each resource
// of status.hard as `used/hard` in name order, limits.* under LIMIT; limitranges print the
// default table (NAME, CREATED AT).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ago, cells } from './fixtures.js';

const meta = { name: 'q', namespace: 'default', creationTimestamp: ago(300) };

void describe('core resourcequotas and limitranges', () => {
  void test('requests and limits in their columns', () => {
    const quota: ResourceQuota = {
      metadata: meta,
      spec: { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi' } },
      status: { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi' }, used: { pods: '1', 'requests.cpu': '500m', 'limits.memory': '0' } },
    };
    assert.deepEqual(cells('', 'resourcequotas', quota), ['q', '5m', 'pods: 1/10, requests.cpu: 500m/1', 'limits.memory: 0/2Gi']);
  });

  void test('a quota the controller has not computed shows empty cells', () => {
    assert.deepEqual(cells('', 'resourcequotas', { metadata: meta, spec: { hard: { pods: '1' } } }), ['q', '5m', '', '']);
  });

  void test('limitranges: name and creation time', () => {
    const lr: LimitRange = { metadata: { ...meta, name: 'limits', creationTimestamp: '2025-06-01T11:55:00Z' }, spec: { limits: [] } };
    assert.deepEqual(cells('', 'limitranges', lr), ['limits', '2025-06-01T11:55:00Z']);
  });
});
