// The poddisruptionbudgets table as Kubernetes 1.32 prints it: MIN AVAILABLE and MAX UNAVAILABLE
// as written (N/A when unset), ALLOWED DISRUPTIONS from the status, AGE.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ago, cells } from './fixtures.js';

const meta = { name: 'web', namespace: 'default', creationTimestamp: ago(300) };
const status = { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 };

void describe('policy poddisruptionbudgets', () => {
  void test('an integer minAvailable; maxUnavailable unset', () => {
    const pdb: PodDisruptionBudget = { metadata: meta, spec: { minAvailable: 2 }, status };
    assert.deepEqual(cells('policy', 'poddisruptionbudgets', pdb), ['web', '2', 'N/A', 1, '5m']);
  });

  void test('a percentage maxUnavailable; minAvailable unset; a budget the controller has not seen', () => {
    const pdb: PodDisruptionBudget = { metadata: meta, spec: { maxUnavailable: '25%' } };
    assert.deepEqual(cells('policy', 'poddisruptionbudgets', pdb), ['web', 'N/A', '25%', 0, '5m']);
  });
});
