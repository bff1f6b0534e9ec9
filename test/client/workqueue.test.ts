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
});
