// The embedded store: SQLite through better-sqlite3, an append-only revision log in the manner of
// k3s's kine (see sqlite-schema.ts), owned by exactly one process.
//
//   const store = SqliteStore.open('/var/lib/skiff/state.db');
//
// Everything runs synchronously on the calling thread (better-sqlite3 is synchronous), so a
// write's SQL transaction, the revision counter and the delivery of its watch events happen in
// one step that no other call can interleave with. Methods return promises only to honour the
// Store interface, which an etcd client implements asynchronously.
//
// Durability. WAL mode with `synchronous=NORMAL` (the default) makes a commit return once the
// transaction is written to the WAL file, without fsync: the bytes are in the OS page cache, so
// every acknowledged write survives kill -9 of this process; only an operating-system crash or
// power loss can lose the last commits (the database itself stays consistent). That is the
// trade-off k3s makes for kine's SQLite (`_synchronous=NORMAL`) and it costs no fsync per write.
// `synchronous: 'FULL'` fsyncs the WAL on every commit for power-loss durability.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { prefixEnd } from './key-range.js';
import { LogWatch, type LogWatchOptions, type WatchableLog } from './log-watch.js';
import { ensureSchema, readMeta, readRevisionCounter } from './sqlite-schema.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  StoreError,
  TxnFailedError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type TxnOp,
} from './store.js';

export { WatchOverflowError } from './event-queue.js';

export interface SqliteStoreOptions {
  /** 'NORMAL' (default): acknowledged writes survive kill -9. 'FULL': they survive power loss too. */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Most live events one watcher may leave unconsumed; one more ends that watch with
   * WatchOverflowError (writers and other watchers are never held up). Default 10,000.
   */
  watchBufferLimit?: number;
  /** History rows a catching-up watch reads per batch. Default 500. */
  watchReplayBatch?: number;
}

const DEFAULT_WATCH_BUFFER_LIMIT = 10_000;
const DEFAULT_WATCH_REPLAY_BATCH = 500;

/** Another process (or another SqliteStore in this one) owns the database file. */
export class StoreLockedError extends StoreError {
  constructor(readonly path: string) {
    super(`the store ${path} is in use by another process: only one skiff server may own an embedded store`);
    this.name = 'StoreLockedError';
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

interface HistoryRow {
  id: number;
  key: string;
  value: string;
  create_revision: number;
  prev_revision: number;
  deleted: number;
  prev_value: string | null;
  prev_create_revision: number | null;
}

interface RangeParams {
  start: string;
  end?: string;
  revision?: number;
  limit?: number;
}

interface HistoryParams {
  start: string;
  end?: string;
  after: number;
  through: number;
  limit: number;
}

/**
 * A query over a key range, prepared in two forms: with an upper bound (a prefix) and without
 * (the empty prefix matches every key). Writing the bound out, rather than `(@end IS NULL OR
 * key < @end)`, lets SQLite stop the index scan at the end of the range.
 */
class RangeStatement<Row, Params extends { end?: string } = RangeParams> {
  private readonly bounded: BetterSqlite3.Statement<[Params], Row>;
  private readonly unbounded: BetterSqlite3.Statement<[Params], Row>;

  constructor(db: BetterSqlite3.Database, sql: string, keyColumn: string) {
    this.bounded = db.prepare(sql.replace('/*end*/', `AND ${keyColumn} < @end`));
    this.unbounded = db.prepare(sql.replace('/*end*/', ''));
  }

  all(params: Params): Row[] {
    return params.end === undefined ? this.unbounded.all(params) : this.bounded.all(params);
  }

  get(params: Params): Row | undefined {
    return params.end === undefined ? this.unbounded.get(params) : this.bounded.get(params);
  }
}

/** Prepared once per store: no SQL is parsed on the request path. */
function prepareStatements(db: BetterSqlite3.Database) {
  const liveColumns = 'c.key AS key, l.value AS value, c.create_revision AS createRevision, c.mod_revision AS modRevision';
  // The newest row per key at or below @revision, tombstones dropped. SQLite fills the bare
  // columns of a MAX() aggregate from the row holding the maximum; the inner ORDER BY lets the
  // outer query stream in key order and stop at LIMIT without sorting.
  const keysAtRevision = `
    SELECT key, MAX(id) AS modRevision, value, create_revision AS createRevision, deleted
    FROM log WHERE key >= @start /*end*/ AND id <= @revision GROUP BY key ORDER BY key`;
  return {
    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT write'),
    release: db.prepare('RELEASE write'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO write'),
    getLive: db.prepare<[string], KeyValue>(
      `SELECT ${liveColumns} FROM current c JOIN log l ON l.id = c.mod_revision WHERE c.key = ?`,
    ),
    getAt: db.prepare<[string, number], KeyValue>(
      `SELECT key, value, createRevision, modRevision FROM (
         SELECT key, value, create_revision AS createRevision, id AS modRevision, deleted
         FROM log WHERE key = ? AND id <= ? ORDER BY id DESC LIMIT 1
       ) WHERE deleted = 0`,
    ),
    listLive: new RangeStatement<KeyValue>(
      db,
      `SELECT ${liveColumns} FROM current c JOIN log l ON l.id = c.mod_revision
       WHERE c.key >= @start /*end*/ ORDER BY c.key LIMIT @limit`,
      'c.key',
    ),
    countLive: new RangeStatement<{ n: number }>(
      db,
      'SELECT COUNT(*) AS n FROM current WHERE key >= @start /*end*/',
      'key',
    ),
    listAt: new RangeStatement<KeyValue>(
      db,
      `SELECT key, value, createRevision, modRevision FROM (${keysAtRevision})
       WHERE deleted = 0 ORDER BY key LIMIT @limit`,
      'key',
    ),
    countAt: new RangeStatement<{ n: number }>(
      db,
      `SELECT COUNT(*) AS n FROM (${keysAtRevision}) WHERE deleted = 0`,
      'key',
    ),
    // Replay reads in revision order along the rowid; `+key` keeps the planner from choosing the
    // key index, which would sort the whole prefix's history for every batch.
    history: new RangeStatement<HistoryRow, HistoryParams>(
      db,
      `SELECT l.id, l.key, l.value, l.create_revision, l.prev_revision, l.deleted,
              p.value AS prev_value, p.create_revision AS prev_create_revision
       FROM log l LEFT JOIN log p ON p.id = l.prev_revision
       WHERE l.id > @after AND l.id <= @through AND +l.key >= @start /*end*/
       ORDER BY l.id LIMIT @limit`,
      '+l.key',
    ),
    appendLog: db.prepare<[number, string, string, number, number, number]>(
      'INSERT INTO log (id, key, value, create_revision, prev_revision, deleted) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertLive: db.prepare<[string, number, number]>(
      'INSERT INTO current (key, create_revision, mod_revision) VALUES (?, ?, ?)',
    ),
    updateLive: db.prepare<[number, string]>('UPDATE current SET mod_revision = ? WHERE key = ?'),
    deleteLive: db.prepare<[string]>('DELETE FROM current WHERE key = ?'),
    // Compaction keeps, for every key, its newest row at or below the target (unless that is a
    // tombstone): rows replaced by a later row at or below the target go, and so do tombstones.
    // Rows at or below the previous compaction were handled then, so only (from, to] is scanned.
    compactSuperseded: db.prepare<[number, number]>(
      'DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0)',
    ),
    compactTombstones: db.prepare<[number, number]>('DELETE FROM log WHERE deleted = 1 AND id > ? AND id <= ?'),
    setMeta: db.prepare<[string, number]>(
      'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** The outcome of one operation inside a write transaction. */
interface Applied {
  kv: KeyValue;
  /** Undefined for a `check`, which writes nothing. */
  event?: StoreEvent;
}

export class SqliteStore implements Store {
  private revision: number;
  private compacted: number;
  private closed = false;
  private readonly pendingWrites: {
    apply: (nextRevision: () => number) => Applied[];
    resolve: (kvs: KeyValue[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private readonly watchers = new Set<LogWatch>();
  /** What this store's watches read, synchronously. */
  private readonly log: WatchableLog = {
    readHistory: (prefix, after, through, limit) => {
      const params: HistoryParams = { start: prefix, after, through, limit };
      const end = prefixEnd(prefix);
      if (end !== undefined) params.end = end;
      return this.sql.history.all(params).map(historyEvent);
    },
    currentRevision: () => this.revision,
    compactedRevision: () => this.compacted,
    subscribe: (watcher) => {
      this.watchers.add(watcher);
      return () => this.watchers.delete(watcher);
    },
    closedError: () => (this.closed ? new StoreClosedError() : undefined),
  };

  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly sql: Statements,
    private readonly watchOptions: LogWatchOptions,
  ) {
    this.revision = readRevisionCounter(db);
    this.compacted = readMeta(db, 'compacted_revision');
    this.watchOptions = watchOptions;
  }

  /**
   * Opens (creating if needed, with its directory) the store at `path` and takes an exclusive
   * lock on it for the life of this store. Fails with StoreLockedError at once if another
   * process, or another open SqliteStore, holds it. The lock is SQLite's own file lock, so the
   * kernel releases it when the owner dies, even by kill -9.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const watchOptions: LogWatchOptions = {
      bufferLimit: positiveInteger('watchBufferLimit', options.watchBufferLimit ?? DEFAULT_WATCH_BUFFER_LIMIT),
      replayBatch: positiveInteger('watchReplayBatch', options.watchReplayBatch ?? DEFAULT_WATCH_REPLAY_BATCH),
    };
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // timeout 0: a locked database is another owner, not a moment of contention; say so at once.
    const db = new Database(path, { timeout: 0 });
    try {
      // EXCLUSIVE before WAL: the connection then keeps its lock and the WAL index in its own
      // memory (no -shm file), so no other connection can read or write behind our back.
      db.pragma('locking_mode = EXCLUSIVE');
      const journal = db.pragma('journal_mode = WAL', { simple: true });
      if (journal !== 'wal' && path !== ':memory:') throw new Error(`${path}: SQLite could not use WAL mode (got ${String(journal)})`);
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.pragma('cache_size = -32768'); // 32 MiB of page cache: a large list stays in memory
      ensureSchema(db, path);
      return new SqliteStore(db, prepareStatements(db), watchOptions);
    } catch (error) {
      db.close();
      if (isSqliteBusy(error)) throw new StoreLockedError(path);
      throw error;
    }
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const at = this.readRevision(revision);
    return at === this.revision ? this.sql.getLive.get(key) : this.sql.getAt.get(key, at);
  }

  async list(options: ListOptions): Promise<ListResult> {
    const revision = this.readRevision(options.revision);
    const { prefix } = options;
    const start = options.startKey ?? prefix;
    if (!start.startsWith(prefix)) {
      throw new RangeError(`list start key ${JSON.stringify(start)} is outside prefix ${JSON.stringify(prefix)}`);
    }
    const limit = options.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`list limit must be a non-negative integer, got ${limit}`);
    const live = revision === this.revision;
    const range: RangeParams = { start, revision, limit: limit > 0 ? limit + 1 : -1 };
    const end = prefixEnd(prefix);
    if (end !== undefined) range.end = end;
    if (live) delete range.revision;

    const items = (live ? this.sql.listLive : this.sql.listAt).all(range);
    if (limit === 0 || items.length <= limit) return { items, revision, more: false, remaining: 0 };
    items.length = limit;
    delete range.limit;
    if (options.countRemaining === false) return { items, revision, more: true };
    const total = (live ? this.sql.countLive : this.sql.countAt).get(range)?.n ?? 0;
    return { items, revision, more: true, remaining: total - limit };
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    return this.sql.countLive.get(end === undefined ? { start: prefix } : { start: prefix, end })?.n ?? 0;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return (await this.write((next) => [this.applyCreate(key, value, next)]))[0] as KeyValue;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return (await this.write((next) => [this.applyUpdate(key, value, expectedModRevision, next)]))[0] as KeyValue;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return (await this.write((next) => [this.applyDelete(key, expectedModRevision, next)]))[0] as KeyValue;
  }

  /**
   * Each operation gets its own revision (as in kine; etcd gives a whole txn one revision), and
   * sees the effect of the operations before it.
   */
  async txn(ops: readonly TxnOp[]): Promise<KeyValue[]> {
    return this.write((next) =>
      ops.map((op, index) => {
        try {
          switch (op.op) {
            case 'create':
              return this.applyCreate(op.key, op.value, next);
            case 'update':
              return this.applyUpdate(op.key, op.value, op.expectedModRevision, next);
            case 'delete':
              return this.applyDelete(op.key, op.expectedModRevision, next);
            case 'check':
              return this.applyCheck(op.key, op.expectedModRevision);
          }
        } catch (error) {
          if (error instanceof StoreError) throw new TxnFailedError(index, error);
          throw error;
        }
      }),
    );
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent> {
    return {
      [Symbol.asyncIterator]: () => new LogWatch(prefix, afterRevision, signal, this.log, this.watchOptions),
    };
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.assertOpen();
    return this.compacted;
  }

  /** Compacting at or below the already compacted revision does nothing. */
  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
    if (revision <= this.compacted) return;
    const from = this.compacted;
    this.inTransaction(() => {
      this.sql.compactSuperseded.run(from, revision);
      this.sql.compactTombstones.run(from, revision);
      this.sql.setMeta.run('compacted_revision', revision);
    });
    this.compacted = revision;
  }

  /** Closes the database; watches end with StoreClosedError, later calls fail with it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) watcher.fail(new StoreClosedError());
    this.watchers.clear();
    this.db.close();
  }

  // --- writes ---

  /**
   * Queues `apply` for the next group commit and resolves once it is durable. Writes that arrive
   * in the same turn of the event loop (under load, many) share one SQLite transaction, each in
   * its own savepoint so that one failing write rolls back alone: fewer WAL appends per write.
   */
  private write(apply: (nextRevision: () => number) => Applied[]): Promise<KeyValue[]> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ apply, resolve, reject });
      if (this.pendingWrites.length === 1) setImmediate(() => this.flushWrites());
    });
  }

  /**
   * Commits every queued write. Revisions are handed out in queue order; a write that fails
   * gives its revisions back. Only after COMMIT do the revision counter move, the events go to
   * the watchers (in revision order) and the callers hear back.
   */
  private flushWrites(): void {
    const batch = this.pendingWrites.splice(0);
    if (batch.length === 0) return;
    if (this.closed) {
      for (const w of batch) w.reject(new StoreClosedError());
      return;
    }
    let revision = this.revision;
    const outcomes: ({ ok: true; applied: Applied[] } | { ok: false; error: unknown })[] = [];
    try {
      this.inTransaction(() => {
        for (const w of batch) {
          const start = revision;
          this.sql.savepoint.run();
          try {
            outcomes.push({ ok: true, applied: w.apply(() => ++revision) });
            this.sql.release.run();
          } catch (error) {
            this.sql.rollbackToSavepoint.run();
            this.sql.release.run();
            revision = start;
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    this.revision = revision;
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return w.reject(outcome.error);
      for (const { event } of outcome.applied) {
        if (event) for (const watcher of this.watchers) watcher.offer(event);
      }
      w.resolve(outcome.applied.map((a) => a.kv));
    });
  }

  private inTransaction<T>(body: () => T): T {
    this.sql.begin.run();
    try {
      const result = body();
      this.sql.commit.run();
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.sql.rollback.run();
      throw error;
    }
  }

  private applyCreate(key: string, value: string, nextRevision: () => number): Applied {
    if (this.sql.getLive.get(key) !== undefined) throw new KeyExistsError(key);
    const revision = nextRevision();
    this.sql.appendLog.run(revision, key, value, revision, 0, 0);
    this.sql.insertLive.run(key, revision, revision);
    const kv: KeyValue = { key, value, createRevision: revision, modRevision: revision };
    return { kv, event: { type: 'put', kv } };
  }

  private applyUpdate(key: string, value: string, expected: number, nextRevision: () => number): Applied {
    const prev = this.sql.getLive.get(key);
    if (prev === undefined) throw new KeyNotFoundError(key);
    if (prev.modRevision !== expected) throw new RevisionMismatchError(key, expected, prev);
    const revision = nextRevision();
    this.sql.appendLog.run(revision, key, value, prev.createRevision, prev.modRevision, 0);
    this.sql.updateLive.run(revision, key);
    const kv: KeyValue = { key, value, createRevision: prev.createRevision, modRevision: revision };
    return { kv, event: { type: 'put', kv, prev } };
  }

  private applyCheck(key: string, expected: number): Applied {
    const current = this.sql.getLive.get(key);
    if (current === undefined) throw new KeyNotFoundError(key);
    if (current.modRevision !== expected) throw new RevisionMismatchError(key, expected, current);
    return { kv: current };
  }

  private applyDelete(key: string, expected: number | undefined, nextRevision: () => number): Applied {
    const prev = this.sql.getLive.get(key);
    if (prev === undefined) throw new KeyNotFoundError(key);
    if (expected !== undefined && prev.modRevision !== expected) throw new RevisionMismatchError(key, expected, prev);
    const revision = nextRevision();
    this.sql.appendLog.run(revision, key, '', prev.createRevision, prev.modRevision, 1);
    this.sql.deleteLive.run(key);
    const kv: KeyValue = { key, value: prev.value, createRevision: prev.createRevision, modRevision: revision };
    return { kv, event: { type: 'delete', kv, prev } };
  }

  // --- helpers ---

  /** The revision a read should use: the current one for 0/undefined, else a readable past one. */
  private readRevision(requested: number | undefined): number {
    this.assertOpen();
    if (requested === undefined || requested === 0) return this.revision;
    if (!Number.isInteger(requested) || requested < 0) throw new RangeError(`invalid revision ${requested}`);
    if (requested > this.revision) throw new FutureRevisionError(requested, this.revision);
    if (requested < this.compacted) throw new CompactedError(requested, this.compacted);
    return requested;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function historyEvent(row: HistoryRow): StoreEvent {
  const prev: KeyValue | undefined =
    row.prev_value === null || row.prev_create_revision === null
      ? undefined
      : { key: row.key, value: row.prev_value, createRevision: row.prev_create_revision, modRevision: row.prev_revision };
  if (row.deleted) {
    if (prev === undefined) throw new Error(`store log is inconsistent: the row replaced by delete ${row.id} is missing`);
    return { type: 'delete', kv: { key: row.key, value: prev.value, createRevision: row.create_revision, modRevision: row.id }, prev };
  }
  const kv: KeyValue = { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: row.id };
  return prev === undefined ? { type: 'put', kv } : { type: 'put', kv, prev };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function isSqliteBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');
}
