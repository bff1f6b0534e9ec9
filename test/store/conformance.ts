// The behaviour every Store must show, written only against the Store interface, so that the
// embedded SQLite store and the etcd store run the same suite:
//
//   storeConformance('SqliteStore', async () => ({ store, cleanup }));
//
// `open` must give a store that is empty under the keys used here (a fresh database, or a fresh
// key namespace in a shared etcd). The suite assumes nothing about the first revision, nor about
// whether a txn gives all its operations one revision (etcd) or one each (kine): only that
// revisions never go back and that separate writes get strictly increasing ones.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  TxnFailedError,
  type Store,
  type StoreEvent,
} from '../../controlplane/store/store.js';

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** How long a test waits for watch events before it gives up and fails. */
const WATCH_TIMEOUT_MS = 5_000;

export function storeConformance(name: string, open: OpenStore): void {
  const withStore = (body: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await open();
    try {
      await body(store);
    } finally {
      await cleanup();
    }
  };

  void describe(`${name}: Store conformance`, () => {
    void describe('revisions', () => {
      void test(
        'every write gets a revision greater than every earlier one, across all keys',
        withStore(async (store) => {
          const start = await store.currentRevision();
          const seen: number[] = [start];
          seen.push((await store.create('/registry/a/1', '"a1"')).modRevision);
          seen.push((await store.create('/registry/b/1', '"b1"')).modRevision);
          const a = await store.get('/registry/a/1');
          assert.ok(a);
          seen.push((await store.update('/registry/a/1', '"a1v2"', a.modRevision)).modRevision);
          seen.push((await store.delete('/registry/b/1')).modRevision);
          seen.push((await store.create('/registry/b/1', '"b1 again"')).modRevision);
          for (let i = 1; i < seen.length; i++) {
            assert.ok((seen[i] ?? 0) > (seen[i - 1] ?? 0), `revisions ${seen.join(', ')} must strictly increase`);
          }
          assert.equal(await store.currentRevision(), seen[seen.length - 1]);
        }),
      );

      void test(
        'a create sets createRevision = modRevision; an update keeps createRevision',
        withStore(async (store) => {
          const created = await store.create('/registry/a/x', '"1"');
          assert.equal(created.createRevision, created.modRevision);
          assert.deepEqual(created, { key: '/registry/a/x', value: '"1"', createRevision: created.modRevision, modRevision: created.modRevision });
          const updated = await store.update('/registry/a/x', '"2"', created.modRevision);
          assert.equal(updated.createRevision, created.createRevision);
          assert.ok(updated.modRevision > created.modRevision);
          assert.deepEqual(await store.get('/registry/a/x'), updated);
        }),
      );
    });

    void describe('get', () => {
      void test(
        'returns the current value, or the value as of an earlier revision',
        withStore(async (store) => {
          const before = await store.currentRevision();
          const v1 = await store.create('/registry/things/t', '{"v":1}');
          const v2 = await store.update('/registry/things/t', '{"v":2}', v1.modRevision);
          await store.create('/registry/things/other', '{}');
          const deleted = await store.delete('/registry/things/t');

          assert.equal(await store.get('/registry/things/t'), undefined);
          assert.equal(await store.get('/registry/things/missing'), undefined);
          assert.deepEqual(await store.get('/registry/things/t', v1.modRevision), v1);
          assert.deepEqual(await store.get('/registry/things/t', v2.modRevision), v2);
          assert.deepEqual(await store.get('/registry/things/t', deleted.modRevision - 1), v2);
          assert.equal(await store.get('/registry/things/t', deleted.modRevision), undefined);
          if (before > 0) assert.equal(await store.get('/registry/things/t', before), undefined);
        }),
      );

      void test(
        'reading at a revision newer than the current one fails with FutureRevisionError',
        withStore(async (store) => {
          await store.create('/registry/things/t', '{}');
          const current = await store.currentRevision();
          await assert.rejects(store.get('/registry/things/t', current + 10), FutureRevisionError);
          await assert.rejects(store.list({ prefix: '/registry/things/', revision: current + 10 }), FutureRevisionError);
        }),
      );
    });

    void describe('create, update, delete', () => {
      void test(
        'create on an existing key fails with KeyExistsError and changes nothing',
        withStore(async (store) => {
          const first = await store.create('/registry/pods/default/a', '"first"');
          const revision = await store.currentRevision();
          await assert.rejects(store.create('/registry/pods/default/a', '"second"'), (error: unknown) => {
            assert.ok(error instanceof KeyExistsError);
            assert.equal(error.key, '/registry/pods/default/a');
            return true;
          });
          assert.deepEqual(await store.get('/registry/pods/default/a'), first);
          assert.equal(await store.currentRevision(), revision);
        }),
      );

      void test(
        'a key can be created again after a delete, with a new createRevision',
        withStore(async (store) => {
          const first = await store.create('/registry/pods/default/a', '"first"');
          await store.delete('/registry/pods/default/a');
          const again = await store.create('/registry/pods/default/a', '"again"');
          assert.ok(again.createRevision > first.createRevision);
          assert.equal(again.createRevision, again.modRevision);
        }),
      );

      void test(
        'update with a stale revision fails with RevisionMismatchError carrying the current value',
        withStore(async (store) => {
          const v1 = await store.create('/registry/pods/default/a', '"v1"');
          const v2 = await store.update('/registry/pods/default/a', '"v2"', v1.modRevision);
          await assert.rejects(store.update('/registry/pods/default/a', '"v3"', v1.modRevision), (error: unknown) => {
            assert.ok(error instanceof RevisionMismatchError);
            assert.equal(error.key, '/registry/pods/default/a');
            assert.equal(error.expected, v1.modRevision);
            assert.deepEqual(error.current, v2);
            return true;
          });
          assert.deepEqual(await store.get('/registry/pods/default/a'), v2);
        }),
      );

      void test(
        'update of a missing key fails with KeyNotFoundError',
        withStore(async (store) => {
          await assert.rejects(store.update('/registry/pods/default/none', '"x"', 1), KeyNotFoundError);
          const v1 = await store.create('/registry/pods/default/gone', '"x"');
          await store.delete('/registry/pods/default/gone');
          await assert.rejects(store.update('/registry/pods/default/gone', '"y"', v1.modRevision), KeyNotFoundError);
        }),
      );

      void test(
        'delete returns the last value with the revision of the delete',
        withStore(async (store) => {
          const v1 = await store.create('/registry/pods/default/a', '"last"');
          const deleted = await store.delete('/registry/pods/default/a');
          assert.equal(deleted.key, '/registry/pods/default/a');
          assert.equal(deleted.value, '"last"');
          assert.equal(deleted.createRevision, v1.createRevision);
          assert.ok(deleted.modRevision > v1.modRevision);
          assert.equal(await store.currentRevision(), deleted.modRevision);
          await assert.rejects(store.delete('/registry/pods/default/a'), KeyNotFoundError);
        }),
      );

      void test(
        'a conditional delete with a stale revision fails and keeps the key',
        withStore(async (store) => {
          const v1 = await store.create('/registry/pods/default/a', '"v1"');
          const v2 = await store.update('/registry/pods/default/a', '"v2"', v1.modRevision);
          await assert.rejects(store.delete('/registry/pods/default/a', v1.modRevision), (error: unknown) => {
            assert.ok(error instanceof RevisionMismatchError);
            assert.deepEqual(error.current, v2);
            return true;
          });
          assert.deepEqual(await store.get('/registry/pods/default/a'), v2);
          const deleted = await store.delete('/registry/pods/default/a', v2.modRevision);
          assert.equal(deleted.value, '"v2"');
          assert.equal(await store.get('/registry/pods/default/a'), undefined);
        }),
      );
    });

    void describe('list and count', () => {
      void test(
        'lists the keys under a prefix in key order, never a sibling prefix',
        withStore(async (store) => {
          for (const key of ['/registry/pods/b', '/registry/podsx/c', '/registry/pods/a', '/registry/pod', '/registry/pods/a/sub', '/registry/pods']) {
            await store.create(key, JSON.stringify(key));
          }
          const result = await store.list({ prefix: '/registry/pods/' });
          assert.deepEqual(
            result.items.map((kv) => kv.key),
            ['/registry/pods/a', '/registry/pods/a/sub', '/registry/pods/b'],
          );
          assert.deepEqual(
            result.items.map((kv) => kv.value),
            ['"/registry/pods/a"', '"/registry/pods/a/sub"', '"/registry/pods/b"'],
          );
          assert.equal(result.revision, await store.currentRevision());
          assert.equal(result.more, false);
          assert.equal(result.remaining ?? 0, 0);
          assert.equal(await store.count('/registry/pods/'), 3);
          assert.equal(await store.count('/registry/podsx/'), 1);
          assert.equal(await store.count('/registry/nothing/'), 0);
          assert.deepEqual((await store.list({ prefix: '/registry/nothing/' })).items, []);
        }),
      );

      void test(
        'list and count leave out deleted keys; a list at an older revision shows them',
        withStore(async (store) => {
          await store.create('/registry/cm/a', '"a"');
          const b = await store.create('/registry/cm/b', '"b"');
          const before = await store.currentRevision();
          await store.delete('/registry/cm/b');
          await store.update('/registry/cm/a', '"a2"', (await store.get('/registry/cm/a'))?.modRevision ?? 0);
          assert.deepEqual((await store.list({ prefix: '/registry/cm/' })).items.map((kv) => kv.value), ['"a2"']);
          assert.equal(await store.count('/registry/cm/'), 1);
          const old = await store.list({ prefix: '/registry/cm/', revision: before });
          assert.equal(old.revision, before);
          assert.deepEqual(old.items.map((kv) => kv.value), ['"a"', '"b"']);
          assert.deepEqual(old.items[1], b);
        }),
      );

      void test(
        'pages read at the first page’s revision even while writes happen between pages',
        withStore(async (store) => {
          const keys = Array.from({ length: 25 }, (_, i) => `/registry/pods/ns/p${String(i).padStart(2, '0')}`);
          for (const key of keys) await store.create(key, JSON.stringify({ key, gen: 1 }));
          await store.create('/registry/podsx/ns/sibling', '{}');
          const snapshot = (await store.list({ prefix: '/registry/pods/' })).items;

          const page1 = await store.list({ prefix: '/registry/pods/', limit: 10 });
          assert.equal(page1.items.length, 10);
          assert.equal(page1.more, true);
          if (page1.remaining !== undefined) assert.equal(page1.remaining, 15);

          // Writes between pages: change a key on a later page, delete one, add one at the end.
          const p15 = await store.get(keys[15] ?? '');
          assert.ok(p15);
          await store.update(p15.key, JSON.stringify({ key: p15.key, gen: 2 }), p15.modRevision);
          await store.delete(keys[22] ?? '');
          await store.create('/registry/pods/ns/p99', '{}');
          await store.create('/registry/pods/ns/p10a', '{}');

          const pages = [page1];
          let last = page1;
          while (last.more) {
            const lastKey = last.items[last.items.length - 1]?.key ?? '';
            last = await store.list({ prefix: '/registry/pods/', limit: 10, startKey: `${lastKey}\x00`, revision: page1.revision });
            assert.equal(last.revision, page1.revision);
            pages.push(last);
          }
          assert.equal(pages.length, 3);
          assert.equal(pages[1]?.more, true);
          if (pages[1]?.remaining !== undefined) assert.equal(pages[1].remaining, 5);
          assert.equal(pages[2]?.more, false);
          assert.equal(pages[2]?.items.length, 5);
          assert.deepEqual(pages.flatMap((p) => p.items), snapshot);

          const now = await store.list({ prefix: '/registry/pods/' });
          assert.equal(now.items.length, 26);
          assert.ok(now.revision > page1.revision);
        }),
      );

      void test(
        'startKey is inclusive, and a limit larger than the rest returns the rest',
        withStore(async (store) => {
          for (const name of ['a', 'b', 'c', 'd']) await store.create(`/registry/x/${name}`, '{}');
          const fromB = await store.list({ prefix: '/registry/x/', startKey: '/registry/x/b', limit: 2 });
          assert.deepEqual(fromB.items.map((kv) => kv.key), ['/registry/x/b', '/registry/x/c']);
          assert.equal(fromB.more, true);
          if (fromB.remaining !== undefined) assert.equal(fromB.remaining, 1);
          const rest = await store.list({ prefix: '/registry/x/', startKey: '/registry/x/c', limit: 10 });
          assert.deepEqual(rest.items.map((kv) => kv.key), ['/registry/x/c', '/registry/x/d']);
          assert.equal(rest.more, false);
          const exact = await store.list({ prefix: '/registry/x/', limit: 4 });
          assert.equal(exact.items.length, 4);
          assert.equal(exact.more, false);
        }),
      );
    });

    void describe('txn', () => {
      void test(
        'applies every operation and returns the results in order',
        withStore(async (store) => {
          const old = await store.create('/registry/t/old', '"old"');
          const gone = await store.create('/registry/t/gone', '"gone"');
          const before = await store.currentRevision();
          const results = await store.txn([
            { op: 'create', key: '/registry/t/new', value: '"new"' },
            { op: 'update', key: '/registry/t/old', value: '"old2"', expectedModRevision: old.modRevision },
            { op: 'delete', key: '/registry/t/gone', expectedModRevision: gone.modRevision },
          ]);
          assert.equal(results.length, 3);
          assert.equal(results[0]?.key, '/registry/t/new');
          assert.equal(results[1]?.value, '"old2"');
          assert.equal(results[1]?.createRevision, old.createRevision);
          assert.equal(results[2]?.value, '"gone"');
          for (const kv of results) assert.ok(kv.modRevision > before);
          assert.ok((results[0]?.modRevision ?? 0) <= (results[1]?.modRevision ?? 0));
          assert.ok((results[1]?.modRevision ?? 0) <= (results[2]?.modRevision ?? 0));
          assert.deepEqual(
            (await store.list({ prefix: '/registry/t/' })).items.map((kv) => [kv.key, kv.value]),
            [['/registry/t/new', '"new"'], ['/registry/t/old', '"old2"']],
          );
          assert.equal(await store.currentRevision(), results[2]?.modRevision);
        }),
      );

      void test(
        'writes nothing when any operation fails, and says which one and why',
        withStore(async (store) => {
          const a = await store.create('/registry/t/a', '"a"');
          await store.update('/registry/t/a', '"a2"', a.modRevision);
          await store.create('/registry/t/exists', '"e"');
          const before = await store.currentRevision();
          const snapshot = await store.list({ prefix: '/registry/t/' });

          const cases: { ops: Parameters<Store['txn']>[0]; index: number; cause: new (...args: never[]) => Error }[] = [
            {
              ops: [
                { op: 'create', key: '/registry/t/new', value: '"n"' },
                { op: 'update', key: '/registry/t/a', value: '"a3"', expectedModRevision: a.modRevision },
              ],
              index: 1,
              cause: RevisionMismatchError,
            },
            {
              ops: [
                { op: 'delete', key: '/registry/t/a' },
                { op: 'create', key: '/registry/t/new', value: '"n"' },
                { op: 'create', key: '/registry/t/exists', value: '"again"' },
              ],
              index: 2,
              cause: KeyExistsError,
            },
            {
              ops: [{ op: 'delete', key: '/registry/t/missing' }, { op: 'create', key: '/registry/t/new', value: '"n"' }],
              index: 0,
              cause: KeyNotFoundError,
            },
          ];
          for (const { ops, index, cause } of cases) {
            await assert.rejects(store.txn(ops), (error: unknown) => {
              assert.ok(error instanceof TxnFailedError, `expected TxnFailedError, got ${String(error)}`);
              assert.equal(error.index, index);
              assert.ok(error.cause instanceof cause, `cause ${String(error.cause)} should be a ${cause.name}`);
              return true;
            });
            assert.equal(await store.currentRevision(), before);
            assert.deepEqual(await store.list({ prefix: '/registry/t/' }), snapshot);
          }
          const mismatch = await store.txn([{ op: 'update', key: '/registry/t/a', value: '"x"', expectedModRevision: a.modRevision }]).catch((e: unknown) => e);
          assert.ok(mismatch instanceof TxnFailedError && mismatch.cause instanceof RevisionMismatchError);
          assert.equal(mismatch.cause.current.value, '"a2"');
        }),
      );

      void test(
        'a check writes nothing and fences the other operations on a key’s revision',
        withStore(async (store) => {
          const fence = await store.create('/registry/t/lease', '"holder-1"');
          const before = await store.currentRevision();
          const [checked, created] = await store.txn([
            { op: 'check', key: '/registry/t/lease', expectedModRevision: fence.modRevision },
            { op: 'create', key: '/registry/t/fenced', value: '"ok"' },
          ]);
          assert.equal(checked?.value, '"holder-1"');
          assert.equal(checked?.modRevision, fence.modRevision);
          assert.ok((created?.modRevision ?? 0) > before);
          const moved = await store.update('/registry/t/lease', '"holder-2"', fence.modRevision);
          await assert.rejects(
            store.txn([
              { op: 'check', key: '/registry/t/lease', expectedModRevision: fence.modRevision },
              { op: 'create', key: '/registry/t/stale', value: '"no"' },
            ]),
            (error: unknown) => error instanceof TxnFailedError && error.index === 0 && error.cause instanceof RevisionMismatchError,
          );
          assert.equal(await store.get('/registry/t/stale'), undefined);
          assert.equal(await store.currentRevision(), moved.modRevision);
        }),
      );
    });

    void describe('watch', () => {
      void test(
        'from 0 replays every write under the prefix, in order, with the right types',
        withStore(async (store) => {
          const a = await store.create('/registry/w/a', '"a1"');
          await store.create('/registry/other/z', '"z"');
          const a2 = await store.update('/registry/w/a', '"a2"', a.modRevision);
          const b = await store.create('/registry/w/b', '"b"');
          const del = await store.delete('/registry/w/a');
          const events = await collect(store, '/registry/w/', 0, 4);
          assert.deepEqual(events.map(summary), [
            `put /registry/w/a ${a.modRevision}`,
            `put /registry/w/a ${a2.modRevision}`,
            `put /registry/w/b ${b.modRevision}`,
            `delete /registry/w/a ${del.modRevision}`,
          ]);
          assert.equal(events[0]?.prev, undefined);
          assert.deepEqual(events[0]?.kv, a);
          assert.deepEqual(events[1]?.kv, a2);
        }),
      );

      void test(
        'update and delete events carry the previous value; a delete event the last value',
        withStore(async (store) => {
          const start = await store.currentRevision();
          const v1 = await store.create('/registry/w/a', '"v1"');
          const v2 = await store.update('/registry/w/a', '"v2"', v1.modRevision);
          const deleted = await store.delete('/registry/w/a');
          for (const events of [
            await collect(store, '/registry/w/', start, 3),
            await collectWhileWriting(store, '/registry/w/', async () => {
              const n1 = await store.create('/registry/w/n', '"n1"');
              await store.update('/registry/w/n', '"n2"', n1.modRevision);
              await store.delete('/registry/w/n');
            }, 3),
          ]) {
            const [create, update, del] = events;
            assert.equal(create?.type, 'put');
            assert.equal(create?.prev, undefined);
            assert.equal(update?.type, 'put');
            assert.equal(update?.prev?.modRevision, create?.kv.modRevision);
            assert.equal(update?.prev?.value, create?.kv.value);
            assert.equal(update?.kv.createRevision, create?.kv.modRevision);
            assert.equal(del?.type, 'delete');
            assert.equal(del?.prev?.modRevision, update?.kv.modRevision);
            assert.equal(del?.prev?.value, update?.kv.value);
            assert.equal(del?.kv.value, update?.kv.value);
            assert.equal(del?.kv.createRevision, create?.kv.modRevision);
          }
          const replayed = await collect(store, '/registry/w/', start, 3);
          assert.deepEqual(replayed[1]?.prev, v1);
          assert.deepEqual(replayed[2]?.prev, v2);
          assert.equal(replayed[2]?.kv.modRevision, deleted.modRevision);
        }),
      );

      void test(
        'from a middle revision replays only what came after it',
        withStore(async (store) => {
          const revisions: number[] = [];
          for (let i = 0; i < 10; i++) revisions.push((await store.create(`/registry/w/k${i}`, `${i}`)).modRevision);
          const middle = revisions[4] ?? 0;
          const events = await collect(store, '/registry/w/', middle, 5);
          assert.deepEqual(events.map((e) => e.kv.modRevision), revisions.slice(5));
        }),
      );

      void test(
        'from the current revision sees only live writes, under its prefix only',
        withStore(async (store) => {
          await store.create('/registry/pods/old', '"old"');
          const current = await store.currentRevision();
          const controller = new AbortController();
          const iterator = store.watch('/registry/pods/', current, controller.signal)[Symbol.asyncIterator]();
          const first = iterator.next();
          await store.create('/registry/podsx/sibling', '"no"');
          await store.create('/registry/other/x', '"no"');
          const live = await store.create('/registry/pods/new', '"new"');
          const result = await withTimeout(first);
          assert.equal(result.done, false);
          assert.deepEqual(result.value, { type: 'put', kv: live });
          const second = iterator.next();
          const updated = await store.update('/registry/pods/old', '"old2"', (await store.get('/registry/pods/old'))?.modRevision ?? 0);
          const next = await withTimeout(second);
          assert.equal(next.done, false);
          assert.equal(next.value?.kv.modRevision, updated.modRevision);
          controller.abort();
          assert.equal((await withTimeout(iterator.next())).done, true);
        }),
      );

      void test(
        'abort ends the iteration without an error, also while waiting for an event',
        withStore(async (store) => {
          await store.create('/registry/w/a', '"a"');
          const controller = new AbortController();
          const received: StoreEvent[] = [];
          const loop = (async () => {
            for await (const event of store.watch('/registry/w/', 0, controller.signal)) received.push(event);
          })();
          while (received.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
          setTimeout(() => controller.abort(), 20);
          await withTimeout(loop);
          assert.equal(received.length, 1);

          const aborted = new AbortController();
          aborted.abort();
          const none: StoreEvent[] = [];
          for await (const event of store.watch('/registry/w/', 0, aborted.signal)) none.push(event);
          assert.deepEqual(none, []);
        }),
      );

      void test(
        'breaking out of the loop stops the watch; writes carry on',
        withStore(async (store) => {
          const start = await store.currentRevision();
          for (let i = 0; i < 5; i++) await store.create(`/registry/w/k${i}`, '{}');
          let count = 0;
          await withDeadline(async (signal) => {
            for await (const _event of store.watch('/registry/w/', start, signal)) {
              if (++count === 2) break;
            }
          });
          assert.equal(count, 2);
          await store.create('/registry/w/after', '{}');
          assert.equal(await store.count('/registry/w/'), 6);
        }),
      );

      void test(
        'writes made while the history is replayed arrive once each, in order, with no gap',
        withStore(async (store) => {
          const start = await store.currentRevision();
          const expected = new Map<number, string>();
          for (let i = 0; i < 300; i++) {
            const kv = await store.create(`/registry/w/k${String(i).padStart(3, '0')}`, `${i}`);
            expected.set(kv.modRevision, `put ${kv.key}`);
          }
          await store.create('/registry/unwatched/x', '{}');
          const received: StoreEvent[] = [];
          let written = 0;
          let lastWrite = 0;
          await withDeadline(async (signal) => {
            for await (const event of store.watch('/registry/w/', start, signal)) {
              received.push(event);
              // Interleave writes with the replay: a create, an update, a delete, and writes
              // outside the prefix, while earlier history is still being delivered.
              if (written < 100) {
                const i = written++;
                const key = `/registry/w/k${String(i).padStart(3, '0')}`;
                const current = await store.get(key);
                assert.ok(current);
                const write =
                  i % 3 === 0
                    ? await store.update(key, `"u${i}"`, current.modRevision)
                    : i % 3 === 1
                      ? await store.delete(key)
                      : await store.create(`/registry/w/new${i}`, '{}');
                await store.create(`/registry/unwatched/n${i}`, '{}');
                expected.set(write.modRevision, `${i % 3 === 1 ? 'delete' : 'put'} ${write.key}`);
                lastWrite = write.modRevision;
              }
              if (written === 100 && event.kv.modRevision === lastWrite) break;
            }
          });
          const revisions = received.map((e) => e.kv.modRevision);
          for (let i = 1; i < revisions.length; i++) {
            assert.ok((revisions[i] ?? 0) > (revisions[i - 1] ?? 0), `event ${i} is out of order or duplicated`);
          }
          assert.deepEqual(
            received.map((e) => `${e.kv.modRevision} ${e.type} ${e.kv.key}`),
            [...expected].sort(([x], [y]) => x - y).map(([rev, what]) => `${rev} ${what}`),
          );
        }),
      );

      void test(
        'many watchers on different prefixes each see exactly their own writes',
        withStore(async (store) => {
          const start = await store.currentRevision();
          const prefixes = ['/registry/a/', '/registry/b/', '/registry/'];
          const watches = prefixes.map((prefix) => collect(store, prefix, start, prefix === '/registry/' ? 20 : 10));
          for (let i = 0; i < 10; i++) {
            await store.create(`/registry/a/${i}`, '{}');
            await store.create(`/registry/b/${i}`, '{}');
          }
          const [a, b, all] = await Promise.all(watches);
          assert.ok(a?.every((e) => e.kv.key.startsWith('/registry/a/')));
          assert.ok(b?.every((e) => e.kv.key.startsWith('/registry/b/')));
          assert.equal(all?.length, 20);
        }),
      );
    });

    void describe('compaction', () => {
      void test(
        'makes reads and watches below it fail with CompactedError; current reads still work',
        withStore(async (store) => {
          const a1 = await store.create('/registry/c/a', '"a1"');
          const b1 = await store.create('/registry/c/b', '"b1"');
          const a2 = await store.update('/registry/c/a', '"a2"', a1.modRevision);
          await store.delete('/registry/c/b');
          const c1 = await store.create('/registry/c/c', '"c1"');
          const target = await store.currentRevision();
          const a3 = await store.update('/registry/c/a', '"a3"', a2.modRevision);
          const d1 = await store.create('/registry/c/d', '"d1"');

          await store.compact(target);
          assert.equal(await store.compactedRevision(), target);

          await assert.rejects(store.get('/registry/c/a', a1.modRevision), CompactedError);
          await assert.rejects(store.get('/registry/c/b', b1.modRevision), CompactedError);
          await assert.rejects(store.list({ prefix: '/registry/c/', revision: a2.modRevision }), CompactedError);
          await assert.rejects(
            withDeadline(async (signal) => {
              for await (const _event of store.watch('/registry/c/', a1.modRevision, signal)) {
                assert.fail('a compacted watch must fail before it yields anything');
              }
            }),
            CompactedError,
          );

          // At the compacted revision itself the state is still readable.
          assert.deepEqual(await store.get('/registry/c/a', target), a2);
          assert.equal(await store.get('/registry/c/b', target), undefined);
          assert.deepEqual(
            (await store.list({ prefix: '/registry/c/', revision: target })).items,
            [a2, c1],
          );
          // Now, and between the compaction and now, everything is there.
          assert.deepEqual((await store.list({ prefix: '/registry/c/' })).items, [a3, c1, d1]);
          assert.deepEqual(await store.get('/registry/c/a'), a3);
          assert.equal(await store.count('/registry/c/'), 3);
          const later = await collect(store, '/registry/c/', target, 2);
          assert.deepEqual(later.map((e) => e.kv), [a3, d1]);
          assert.deepEqual(later[0]?.prev, a2);

          // Compacting again at or below the compacted revision changes nothing.
          await store.compact(target - 1);
          assert.equal(await store.compactedRevision(), target);
          await assert.rejects(store.compact((await store.currentRevision()) + 5), FutureRevisionError);
        }),
      );

      void test(
        'a list that continues below a later compaction fails with CompactedError',
        withStore(async (store) => {
          for (let i = 0; i < 6; i++) await store.create(`/registry/c/k${i}`, `${i}`);
          const page1 = await store.list({ prefix: '/registry/c/', limit: 3 });
          const k0 = page1.items[0];
          assert.ok(k0);
          await store.update(k0.key, '"changed"', k0.modRevision);
          await store.compact(await store.currentRevision());
          const lastKey = page1.items[2]?.key ?? '';
          await assert.rejects(
            store.list({ prefix: '/registry/c/', limit: 3, startKey: `${lastKey}\x00`, revision: page1.revision }),
            CompactedError,
          );
        }),
      );
    });

    void describe('concurrency', () => {
      void test(
        'eight writers doing read-modify-write with retries lose no update',
        withStore(async (store) => {
          const key = '/registry/counters/c';
          await store.create(key, JSON.stringify({ n: 0 }));
          const writers = 8;
          const increments = 25;
          let conflicts = 0;
          const writer = async () => {
            for (let i = 0; i < increments; i++) {
              let current = await store.get(key);
              for (;;) {
                assert.ok(current);
                const { n } = JSON.parse(current.value) as { n: number };
                try {
                  await store.update(key, JSON.stringify({ n: n + 1 }), current.modRevision);
                  break;
                } catch (error) {
                  if (!(error instanceof RevisionMismatchError)) throw error;
                  conflicts++;
                  current = error.current;
                }
              }
              // Let the other writers in between increments.
              await new Promise((resolve) => setImmediate(resolve));
            }
          };
          await Promise.all(Array.from({ length: writers }, writer));
          const final = await store.get(key);
          assert.ok(final);
          assert.deepEqual(JSON.parse(final.value), { n: writers * increments });
          assert.ok(conflicts > 0, 'the writers should have raced at least once');
        }),
      );
    });
  });
}

function summary(event: StoreEvent): string {
  return `${event.type} ${event.kv.key} ${event.kv.modRevision}`;
}

/**
 * Runs `body` with a signal that aborts after `ms`. The timer is a real (ref'd) one, so a watch
 * that never delivers fails its test at the deadline instead of letting the process run out of
 * work with the test still pending; it is cleared as soon as `body` settles.
 */
export async function withDeadline<T>(body: (signal: AbortSignal) => Promise<T>, ms = WATCH_TIMEOUT_MS): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await body(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The first `count` events of a watch; fails if they do not all come before the deadline. */
async function collect(store: Store, prefix: string, afterRevision: number, count: number): Promise<StoreEvent[]> {
  const events: StoreEvent[] = [];
  if (count > 0) {
    await withDeadline(async (signal) => {
      for await (const event of store.watch(prefix, afterRevision, signal)) {
        events.push(event);
        if (events.length === count) break;
      }
    });
  }
  assert.equal(events.length, count, `watch ended after ${events.length} of ${count} events: ${events.map(summary).join('; ')}`);
  return events;
}

/** Starts a watch from the current revision, runs `write`, and returns the first `count` events. */
async function collectWhileWriting(store: Store, prefix: string, write: () => Promise<void>, count: number): Promise<StoreEvent[]> {
  const watch = collect(store, prefix, await store.currentRevision(), count);
  await write();
  return watch;
}

async function withTimeout<T>(promise: Promise<T>, ms = WATCH_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
