import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWorkers, WorkQueue } from '../../api/workqueue.js';

describe('WorkQueue', () => {
  test('a key added many times is processed once; adds during processing run once more after', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a'); // while processing
    assert.equal(q.length, 1, 'not queued again while processing');
    q.done('a');
    assert.equal(q.length, 2, 're-queued after done');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), 'a');
  });

  test('keys leave in the order they came, across a relist\'s worth of adds and takes', async () => {
    const q = new WorkQueue<string>();
    const taken: string[] = [];
    let added = 0;
    // Adds outpace takes, then takes drain: the queue grows to thousands and empties twice.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 30_000; i++) {
        q.add(`ns/pod-${added++}`);
        if (i % 3 === 0) taken.push((await q.get())!);
      }
      while (q.length > 0) taken.push((await q.get())!);
    }
    assert.equal(taken.length, added);
    assert.ok(taken.every((key, i) => key === `ns/pod-${i}`), 'out of order');
  });

  test('a waiting worker gets the next key', async () => {
    const q = new WorkQueue<string>();
    const next = q.get();
    q.add('x');
    assert.equal(await next, 'x');
  });

  test('failures back off exponentially and forget resets', async () => {
    const q = new WorkQueue<string>({ baseDelayMs: 20, maxDelayMs: 1000 });
    q.addRateLimited('k');
    q.addRateLimited('k'); // still pending: the first timer wins
    assert.equal(q.retries('k'), 2);
    const started = Date.now();
    assert.equal(await q.get(), 'k');
    assert.ok(Date.now() - started >= 15);
    q.forget('k');
    assert.equal(q.retries('k'), 0);
    q.done('k');
    q.shutDown();
    assert.equal(await q.get(), undefined);
  });

  test('runWorkers retries failing keys and stops on abort', async () => {
    const q = new WorkQueue<string>({ baseDelayMs: 1 });
    const abort = new AbortController();
    let attempts = 0;
    const done = runWorkers(q, 2, async (key) => {
      attempts++;
      if (attempts < 3) throw new Error(`fail ${key}`);
      abort.abort();
    }, abort.signal);
    q.add('job');
    await done;
    assert.equal(attempts, 3);
  });

  test('workers with a long backlog of keys that need no I/O still let timers run', async () => {
    const q = new WorkQueue<string>();
    const abort = new AbortController();
    const keys = 2000;
    for (let i = 0; i < keys; i++) q.add(`k-${i}`);
    let processed = 0;
    let processedWhenTimerRan: number | undefined;
    // A timer due at once, as a Lease renewal that is due while the backlog is worked off.
    setTimeout(() => (processedWhenTimerRan = processed), 0);
    const done = runWorkers(q, 2, async () => {
      // Some synchronous work per key (≥ 50 µs): 2,000 keys keep the thread ≥ 100 ms.
      for (const until = performance.now() + 0.05; performance.now() < until; );
      if (++processed === keys) abort.abort();
    }, abort.signal);
    await done;
    assert.notEqual(processedWhenTimerRan, undefined);
    assert.ok(processedWhenTimerRan! < keys / 2, `the timer ran only after ${processedWhenTimerRan} of ${keys} keys`);
  });
});
