// PodDisruptionBudget validation as kube-apiserver 1.32 applies it: minAvailable and
// maxUnavailable exclusive, each a non-negative integer or a percentage up to 100%, a valid
// selector, the two unhealthyPodEvictionPolicy values, non-negative status counters; and the
// status a new budget starts with.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, prepared, resource, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const PDB = resource('policy', 'PodDisruptionBudget');

function pdb(): Loose {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'default' },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
  };
}

describe('PodDisruptionBudget validation', () => {
  test('integers, percentages and either field alone are valid; nothing is defaulted', () => {
    assert.deepEqual(createErrors(PDB, pdb()), []);
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec = { maxUnavailable: '25%', selector: {} }))), []);
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec.unhealthyPodEvictionPolicy = 'AlwaysAllow'))), []);
    assert.equal(prepared(PDB, pdb()).spec.unhealthyPodEvictionPolicy, undefined);
  });

  test('minAvailable and maxUnavailable cannot be both set', () => {
    const errs = createErrors(PDB, changed(pdb(), (p) => (p.spec.maxUnavailable = 1)));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
  });

  test('int or percent, non-negative, at most 100%', () => {
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec.minAvailable = -1))), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec = { maxUnavailable: 'half' })) ), [
      `spec.maxUnavailable: Invalid value: "half": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
    ]);
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec.minAvailable = '150%'))), ['spec.minAvailable: Invalid value: "150%": must not be greater than 100%']);
  });

  test('the selector and the eviction policy', () => {
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In' }] }))), [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
    assert.deepEqual(createErrors(PDB, changed(pdb(), (p) => (p.spec.unhealthyPodEvictionPolicy = 'Never'))), [
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
  });

  test('the spec may change after creation; status counters may not be negative', () => {
    const old = { ...pdb(), metadata: { ...pdb().metadata, resourceVersion: '1', uid: 'u' } };
    assert.deepEqual(updateErrors(PDB, changed(old, (p) => (p.spec.minAvailable = '50%')), old), []);
    const status = { disruptionsAllowed: -1, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    assert.deepEqual(statusErrors(PDB, changed(old, (p) => (p.status = status)), old), ['status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0']);
  });
});
