import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackOff, goDuration } from '../../agent/pods/backoff.js';

describe('back-off (CrashLoopBackOff, ImagePullBackOff)', () => {
  test('the first failure restarts at once, then the delay doubles up to the cap', () => {
    let now = 0;
    const b = new BackOff(10_000, 300_000, () => now);
    const key = 'uid/main';
    assert.equal(b.inBackOffSince(key, now), false, 'never failed: no back-off');
    b.next(key, now);
    assert.equal(b.delay(key), 10_000);
    now = 1000;
    assert.equal(b.inBackOffSince(key, 1000), true, 'failed again at once: back off 10 s');
    assert.equal(b.remainingSince(key, 1000), 10_000);
    now = 11_001;
    assert.equal(b.inBackOffSince(key, 1000), false);
    const delays = [];
    for (let i = 0; i < 7; i++) {
      b.next(key, now);
      delays.push(b.delay(key));
    }
    assert.deepEqual(delays, [20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  test('a failure more than twice the cap after the last one starts over (10 min for 5 min)', () => {
    let now = 0;
    const b = new BackOff(10_000, 300_000, () => now);
    for (let i = 0; i < 6; i++) b.next('k', now);
    assert.equal(b.delay('k'), 300_000);
    now = 600_001;
    assert.equal(b.inBackOffSince('k', now), false);
    b.next('k', now);
    assert.equal(b.delay('k'), 10_000);
  });

  test('pull back-off counts from the last failure', () => {
    let now = 0;
    const b = new BackOff(1000, 4000, () => now);
    b.next('img');
    now = 500;
    assert.equal(b.inBackOffSinceUpdate('img'), true);
    assert.equal(b.remainingSinceUpdate('img'), 500);
    now = 1000;
    assert.equal(b.inBackOffSinceUpdate('img'), false);
    b.reset('img');
    assert.equal(b.delay('img'), 0);
  });

  test('resetPrefix forgets a pod', () => {
    const b = new BackOff(1000, 4000);
    b.next('uid-1/a');
    b.next('uid-1/b');
    b.next('uid-2/a');
    b.resetPrefix('uid-1/');
    assert.equal(b.delay('uid-1/a'), 0);
    assert.equal(b.delay('uid-2/a'), 1000);
  });

  test('durations print as Go prints them', () => {
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(1500), '1.5s');
    assert.equal(goDuration(250), '250ms');
    assert.equal(goDuration(80_000), '1m20s');
    assert.equal(goDuration(300_000), '5m0s');
  });
});
