// The tables of the embedded store, in the manner of k3s's kine: an append-only log whose row id
// is the global revision, plus an index of the live keys so that reads at the current revision
// need not search the history.
//
// log      one row per write. A create has create_revision = id and prev_revision = 0; an update
//          points prev_revision at the row it replaced; a delete is a tombstone (deleted = 1,
//          empty value) that points at the last live row. AUTOINCREMENT keeps the revision
//          counter (sqlite_sequence) even when compaction removes the newest rows.
// current  key -> the log row holding its live value; absent for deleted keys.
// meta     schema version and the compacted revision.
//
// Indexes: current's primary key serves get/list/count now; log (key, id) serves get and list
// at a past revision (the newest row per key at or below it); the rowid serves watch replay.

import type BetterSqlite3 from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_id ON log (key, id);
CREATE TABLE IF NOT EXISTS current (
  key TEXT PRIMARY KEY,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Creates the tables of a new store, or checks that an existing one is a store we understand. */
export function ensureSchema(db: BetterSqlite3.Database, path: string): void {
  db.exec('BEGIN');
  try {
    db.exec(DDL);
    const row = db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").get();
    if (row === undefined) {
      db.prepare("INSERT INTO meta (name, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
    } else if (row.value !== SCHEMA_VERSION) {
      throw new Error(`${path} holds store schema version ${row.value}; this skiff understands version ${SCHEMA_VERSION}`);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

export function readMeta(db: BetterSqlite3.Database, name: string): number {
  const row = db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?').get(name);
  return row?.value ?? 0;
}

/** The highest revision ever written (sqlite_sequence survives the removal of its row). */
export function readRevisionCounter(db: BetterSqlite3.Database): number {
  const row = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get();
  return row?.seq ?? 0;
}
