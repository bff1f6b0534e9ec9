// The embedded SQLite store: the shared Store conformance suite, then what only an embedded,
// single-owner, on-disk store has to show (the lock, reopening, the bounded watch buffers).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore, StoreClosedError, StoreLockedError, WatchOverflowError, type SqliteStoreOptions } from '../../controlplane/store/sqlite.js';
import { CompactedError, type StoreEvent } from '../../controlplane/store/store.js';
import { storeConformance, withDeadline } from './conformance.js';
import { runStoreChild } from './fixtures/spawn.js';

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  tempDirs.push(dir);
  return join(dir, 'state.db');
}

function openFresh(options?: SqliteStoreOptions) {
  return async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path, options);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(join(path, '..'), { recursive: true, force: true });
      },
    };
  };
}

storeConformance('SqliteStore', openFresh());
// Tiny replay batches: every catching-up watch crosses many batch boundaries.
storeConformance('SqliteStore (watch replay in batches of 7)', openFresh({ watchReplayBatch: 7 }));

void describe('SqliteStore ownership', () => {
  void test('a second open of the same file fails with StoreLockedError until the first is closed', async () => {
    const path = await tempDbPath();
    const first = SqliteStore.open(path);
    await first.create('/registry/a', '"a"');
    assert.throws(() => SqliteStore.open(path), (error: unknown) => {
      assert.ok(error instanceof StoreLockedError);
      assert.match(error.message, /in use by another process/);
      assert.equal(error.path, path);
      return true;
    });
    assert.equal((await first.get('/registry/a'))?.value, '"a"', 'the failed open must not disturb the owner');
    await first.close();
    const second = SqliteStore.open(path);
    assert.equal((await second.get('/registry/a'))?.value, '"a"');
    await second.close();
  });

  void test('another process cannot open a store this process owns', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    const run = runStoreChild(['open', path]);
    const { code, stderr } = await run.exited;
    assert.equal(code, 0, stderr);
    assert.equal(run.lines.length, 1);
    assert.match(run.lines[0] ?? '', /^locked .*only one skiff server may own an embedded store/);
    await store.close();
  });

  void test('a store owned by another process is locked until that process is killed', async () => {
    const path = await tempDbPath();
    const run = runStoreChild(['hold', path]);
    try {
      await run.until((lines) => lines.includes('opened'));
      assert.throws(() => SqliteStore.open(path), StoreLockedError);
    } finally {
      run.child.kill('SIGKILL');
    }
    const { signal } = await run.exited;
    assert.equal(signal, 'SIGKILL');
    const store = SqliteStore.open(path);
    assert.equal(await store.currentRevision(), 0);
    await store.close();
  });
});

void describe('SqliteStore on disk', () => {
  void test('reopening keeps the data, the revisions and the history', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    const a1 = await store.create('/registry/a', '"a1"');
    const a2 = await store.update('/registry/a', '"a2"', a1.modRevision);
    const b = await store.create('/registry/b', '"b"');
    await store.close();

    const reopened = SqliteStore.open(path);
    assert.equal(await reopened.currentRevision(), b.modRevision);
    assert.deepEqual(await reopened.get('/registry/a'), a2);
    assert.deepEqual(await reopened.get('/registry/a', a1.modRevision), a1);
    assert.deepEqual((await reopened.list({ prefix: '/registry/' })).items, [a2, b]);
    const c = await reopened.create('/registry/c', '"c"');
    assert.equal(c.modRevision, b.modRevision + 1);
    await reopened.close();
  });

  void test('the compacted revision is kept across a reopen, and so is the revision counter', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    const a1 = await store.create('/registry/a', '"a1"');
    await store.update('/registry/a', '"a2"', a1.modRevision);
    await store.create('/registry/b', '"b"');
    // The newest write is a delete; compacting at it removes the newest row of the log.
    const deleted = await store.delete('/registry/b');
    await store.compact(deleted.modRevision);
    await store.close();

    const reopened = SqliteStore.open(path);
    assert.equal(await reopened.compactedRevision(), deleted.modRevision);
    assert.equal(await reopened.currentRevision(), deleted.modRevision);
    await assert.rejects(reopened.get('/registry/a', a1.modRevision), CompactedError);
    const next = await reopened.create('/registry/b', '"b again"');
    assert.equal(next.modRevision, deleted.modRevision + 1, 'revisions are never reused');
    await reopened.close();
  });

  void test('compaction removes superseded rows and tombstones from the log, and keeps the rest', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    const a1 = await store.create('/registry/a', '"a1"');
    const a2 = await store.update('/registry/a', '"a2"', a1.modRevision);
    const b1 = await store.create('/registry/b', '"b1"');
    const bDeleted = await store.delete('/registry/b');
    const c1 = await store.create('/registry/c', '"c1"');
    const target = await store.currentRevision();
    const a3 = await store.update('/registry/a', '"a3"', a2.modRevision);
    const cDeleted = await store.delete('/registry/c');
    await store.compact(target);
    await store.close();

    const db = new Database(path, { readonly: true });
    const ids = db.prepare<[], { id: number }>('SELECT id FROM log ORDER BY id').all().map((row) => row.id);
    db.close();
    // a1 (superseded by a2), b1 and its tombstone go; a2 stays as the value of a at the
    // compacted revision and as the previous value of a3; c1 stays for cDeleted's event.
    assert.deepEqual(ids, [a2.modRevision, c1.modRevision, a3.modRevision, cDeleted.modRevision]);
    assert.ok(!ids.includes(b1.modRevision) && !ids.includes(bDeleted.modRevision));
  });

  void test('the FULL durability mode works the same way', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path, { synchronous: 'FULL' });
    const kv = await store.create('/registry/a', '"a"');
    await store.close();
    const reopened = SqliteStore.open(path);
    assert.deepEqual(await reopened.get('/registry/a'), kv);
    await reopened.close();
  });
});

void describe('SqliteStore watch buffers and lifetime', () => {
  void test('a watcher that falls too far behind ends with WatchOverflowError; writers and other watchers carry on', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path, { watchBufferLimit: 10 });
    const start = await store.currentRevision();
    // Subscribed now, but nobody takes its events until all 50 writes are done.
    const slow = store.watch('/registry/', start, new AbortController().signal)[Symbol.asyncIterator]();
    const fastEvents: StoreEvent[] = [];
    const fast = withDeadline(async (signal) => {
      for await (const event of store.watch('/registry/', start, signal)) {
        fastEvents.push(event);
        if (fastEvents.length === 50) break;
      }
    });
    for (let i = 0; i < 50; i++) {
      await store.create(`/registry/k${i}`, '{}');
      // A turn of the event loop: the fast watcher takes each event before the next write.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await fast;
    assert.equal(fastEvents.length, 50);

    // The slow watcher gets what was queued before it overflowed, then the error.
    const slowEvents: StoreEvent[] = [];
    await assert.rejects(async () => {
      for (;;) {
        const result = await slow.next();
        if (result.done) break;
        slowEvents.push(result.value);
      }
    }, WatchOverflowError);
    assert.equal(slowEvents.length, 10, 'the events queued before the overflow');
    assert.deepEqual(slowEvents.map((e) => e.kv.key), fastEvents.slice(0, slowEvents.length).map((e) => e.kv.key));
    assert.equal(await store.count('/registry/'), 50);
    await store.close();
  });

  void test('a compaction that overtakes a catching-up watch ends it with CompactedError', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path, { watchReplayBatch: 5 });
    const start = await store.currentRevision();
    for (let i = 0; i < 20; i++) await store.create(`/registry/k${i}`, '{}');
    for (let i = 0; i < 20; i++) await store.delete(`/registry/k${i}`);
    const received: StoreEvent[] = [];
    await assert.rejects(
      withDeadline(async (signal) => {
        for await (const event of store.watch('/registry/', start, signal)) {
          received.push(event);
          if (received.length === 3) await store.compact(await store.currentRevision());
        }
      }),
      CompactedError,
    );
    assert.equal(received.length, 5, 'the batch already read is delivered, nothing after it');
    await store.close();
  });

  void test('close ends open watches with StoreClosedError and later calls fail', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    await store.create('/registry/a', '"a"');
    const watching = withDeadline(async (signal) => {
      for await (const _event of store.watch('/registry/', 0, signal)) {
        // the one existing event, then wait for more until the store closes
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await store.close();
    await assert.rejects(watching, StoreClosedError);
    await assert.rejects(store.get('/registry/a'), StoreClosedError);
    await assert.rejects(store.create('/registry/b', '"b"'), StoreClosedError);
    await assert.rejects(store.list({ prefix: '/' }), StoreClosedError);
    await assert.rejects(store.currentRevision(), StoreClosedError);
    await assert.rejects(
      withDeadline(async (signal) => {
        for await (const _event of store.watch('/registry/', 0, signal)) assert.fail('a closed store has no events');
      }),
      StoreClosedError,
    );
    await store.close();
  });

  void test('the empty prefix lists and watches every key', async () => {
    const path = await tempDbPath();
    const store = SqliteStore.open(path);
    for (const key of ['/a', '/b', 'z', '\u{10FFFF}x']) await store.create(key, '{}');
    assert.deepEqual((await store.list({ prefix: '' })).items.map((kv) => kv.key), ['/a', '/b', 'z', '\u{10FFFF}x']);
    assert.equal(await store.count(''), 4);
    const keys: string[] = [];
    await withDeadline(async (signal) => {
      for await (const event of store.watch('', 0, signal)) {
        keys.push(event.kv.key);
        if (keys.length === 4) break;
      }
    });
    assert.deepEqual(keys, ['/a', '/b', 'z', '\u{10FFFF}x']);
    await store.close();
  });
});
