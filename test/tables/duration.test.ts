import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, rfc3339, timeSince } from '../../controlplane/apiserver/tables/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

void describe('humanDuration (apimachinery HumanDuration)', () => {
  const cases: [number, string][] = [
    [-2001, '<invalid>'],
    [-2 * S, '<invalid>'],
    [-1999, '0s'],
    [-1 * S, '0s'],
    [0, '0s'],
    [999, '0s'],
    [45 * S, '45s'],
    [119 * S + 999, '119s'],
    [2 * M, '2m'],
    [2 * M + 30 * S, '2m30s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 59 * S, '10m'],
    [179 * M + 59 * S, '179m'],
    [3 * H, '3h'],
    [3 * H + 15 * M + 40 * S, '3h15m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H, '8h'],
    [47 * H + 59 * M, '47h'],
    [48 * H, '2d'],
    [2 * D + 5 * H + 30 * M, '2d5h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [729 * D + 23 * H, '729d'],
    [730 * D, '2y'],
    [2 * Y + 40 * D, '2y40d'],
    [7 * Y + 364 * D, '7y364d'],
    [8 * Y, '8y'],
    [8 * Y + 100 * D, '8y'],
    [20 * Y + 5 * D, '20y'],
  ];
  for (const [ms, expected] of cases) {
    void test(`${ms} ms → ${expected}`, () => assert.equal(humanDuration(ms), expected));
  }
});

void describe('timeSince (the AGE cell)', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  void test('measures from the timestamp to now', () => {
    assert.equal(timeSince('2025-06-01T11:50:00Z', now), '10m');
    assert.equal(timeSince('2025-06-01T11:59:59.500Z', now), '0s');
    assert.equal(timeSince('2025-06-01T11:59:00.123456Z', now), '59s');
    assert.equal(timeSince('2025-06-01T14:00:00+02:00', now), '0s');
  });
  void test('a timestamp that is missing, zero or unparsable is <unknown>', () => {
    assert.equal(timeSince(undefined, now), '<unknown>');
    assert.equal(timeSince('', now), '<unknown>');
    assert.equal(timeSince('0001-01-01T00:00:00Z', now), '<unknown>');
    assert.equal(timeSince('yesterday', now), '<unknown>');
  });
  void test('a timestamp in the future beyond the clock-skew allowance is <invalid>', () => {
    assert.equal(timeSince('2025-06-01T12:00:05Z', now), '<invalid>');
  });
});

void describe('rfc3339 (date-typed cells)', () => {
  void test('prints UTC with whole seconds', () => {
    assert.equal(rfc3339('2025-06-01T11:50:00.789Z'), '2025-06-01T11:50:00Z');
    assert.equal(rfc3339('2025-06-01T13:50:00+02:00'), '2025-06-01T11:50:00Z');
  });
  void test('a missing timestamp prints as the Go zero time', () => {
    assert.equal(rfc3339(undefined), '0001-01-01T00:00:00Z');
  });
});
