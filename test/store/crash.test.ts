// kill -9 in the middle of writing: every write the store acknowledged must be there after a
// reopen, with the revision it was acknowledged with, and the history must replay without a
// gap or a duplicate. The writer is a separate process (fixtures/store-child.ts) that prints a
// line only after each write has returned; this process kills it with SIGKILL mid-stream.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../controlplane/store/sqlite.js';
import type { StoreEvent } from '../../controlplane/store/store.js';
import { withDeadline } from './conformance.js';
import { crashKey, runStoreChild } from './fixtures/spawn.js';

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-crash-'));
  tempDirs.push(dir);
  return join(dir, 'state.db');
}

/** Somewhere between `min` and `max` (inclusive): where in the stream the kill lands. */
function killPoint(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Runs the child until it has acknowledged at least `lines` writes, then kills it with SIGKILL. */
async function writeThenKill(args: string[], lines: number): Promise<string[]> {
  const run = runStoreChild(args);
  try {
    await run.until((printed) => printed.length >= lines);
  } finally {
    run.child.kill('SIGKILL');
  }
  const { signal, stderr } = await run.exited;
  assert.equal(signal, 'SIGKILL', `the child must die mid-stream, not finish (stderr: ${stderr})`);
  assert.ok(!run.lines.includes('done'), 'the child finished before it was killed');
  return [...run.lines];
}

void test('every acknowledged create survives kill -9 with the revision it was acknowledged with', { timeout: 60_000 }, async () => {
  const path = await tempDbPath();
  const kill = killPoint(300, 700);
  // The child could write far more than we wait for, so the kill always lands mid-stream.
  const acknowledged = (await writeThenKill(['creates', path, '1000000'], kill)).map((line) => {
    const [key, revision] = line.split(' ');
    return { key: key ?? '', revision: Number(revision) };
  });
  assert.ok(acknowledged.length >= kill);

  const store = SqliteStore.open(path);
  try {
    for (const [i, { key, revision }] of acknowledged.entries()) {
      assert.equal(key, crashKey(i));
      const kv = await store.get(key);
      assert.ok(kv, `acknowledged create ${i} (${key} at ${revision}) is missing after kill -9`);
      assert.equal(kv.modRevision, revision, `${key} has revision ${kv.modRevision}, acknowledged ${revision}`);
      assert.equal(kv.createRevision, revision);
      assert.deepEqual(JSON.parse(kv.value), { i });
    }
    // Beyond the acknowledged writes there can be the ones in flight when the kill came, but
    // the store holds an unbroken sequence: creates 0..n-1 at consecutive revisions.
    const { items } = await store.list({ prefix: '/registry/crash/' });
    assert.ok(items.length >= acknowledged.length);
    const first = acknowledged[0]?.revision ?? 0;
    items.forEach((kv, i) => {
      assert.equal(kv.key, crashKey(i));
      assert.equal(kv.modRevision, first + i);
    });
    assert.equal(await store.currentRevision(), first + items.length - 1);
    // And the store takes writes again, after everything that came before.
    const next = await store.create('/registry/after-crash', '{}');
    assert.equal(next.modRevision, first + items.length);
  } finally {
    await store.close();
  }
});

void test('after kill -9, a watch from a saved revision sees every later write exactly once, in order', { timeout: 60_000 }, async () => {
  const path = await tempDbPath();
  // Some history, a saved revision, and more writes from this process before it hands over.
  const before = SqliteStore.open(path);
  for (let i = 0; i < 50; i++) await before.create(`/registry/crash/pre-${String(i).padStart(2, '0')}`, `${i}`);
  const saved = await before.currentRevision();
  const afterSaved: string[] = [];
  for (let i = 0; i < 20; i++) {
    const key = `/registry/crash/pre-${String(i).padStart(2, '0')}`;
    const current = await before.get(key);
    assert.ok(current);
    const kv = i % 2 === 0 ? await before.update(key, `"u${i}"`, current.modRevision) : await before.delete(key);
    afterSaved.push(`${i % 2 === 0 ? 'put' : 'delete'} ${kv.key} ${kv.modRevision}`);
  }
  await before.close();

  const acknowledged = await writeThenKill(['mixed', path, '1000000'], killPoint(300, 700));
  const expected = [...afterSaved, ...acknowledged];

  const store = SqliteStore.open(path);
  try {
    const current = await store.currentRevision();
    const events: StoreEvent[] = [];
    await withDeadline(async (signal) => {
      for await (const event of store.watch('/registry/', saved, signal)) {
        events.push(event);
        if (event.kv.modRevision === current) break;
      }
    });
    const seen = events.map((e) => `${e.type} ${e.kv.key} ${e.kv.modRevision}`);
    // Every write after the saved revision, in revision order, each once, with no gap...
    assert.deepEqual(
      events.map((e) => e.kv.modRevision),
      Array.from({ length: current - saved }, (_, i) => saved + 1 + i),
    );
    // ...and those are exactly the acknowledged writes, plus at most the one that was in
    // flight when the kill came (it committed but was not yet reported).
    assert.deepEqual(seen.slice(0, expected.length), expected);
    assert.ok(seen.length - expected.length <= 1, `${seen.length - expected.length} unacknowledged writes survived`);
    for (const event of events) {
      if (event.type === 'delete') assert.equal(event.prev.modRevision < event.kv.modRevision, true);
    }
  } finally {
    await store.close();
  }
});
