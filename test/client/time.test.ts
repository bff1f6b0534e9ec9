// Times as the Kubernetes API writes them (metav1.Time, metav1.MicroTime).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeMicroTime, kubeTime } from '../../api/time.js';

test('metav1.Time is RFC 3339 in whole seconds, for any instant, however often it is asked', () => {
  const at = Date.UTC(2026, 10, 22, 21, 35, 14, 999);
  assert.equal(kubeTime(at), '2026-11-22T21:35:14Z');
  assert.equal(kubeTime(at - 999), '2026-11-22T21:35:14Z');
  assert.equal(kubeTime(at + 1), '2026-11-22T21:35:15Z');
  assert.equal(kubeTime(new Date(at)), '2026-11-22T21:35:14Z');
  assert.equal(kubeTime(-1500), '1969-12-31T23:59:58Z');
  assert.equal(kubeTime(0), '1970-01-01T00:00:00Z');
  assert.throws(() => kubeTime(Number.NaN), RangeError);
  assert.equal(kubeTime(at), '2026-11-22T21:35:14Z', 'a failed call changes nothing');
  assert.match(kubeTime(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(kubeMicroTime(at), '2026-11-22T21:35:14.999000Z');
});
