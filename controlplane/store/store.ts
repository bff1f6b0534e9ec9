// The storage contract of the control plane: etcd's data model, so that the embedded SQLite
// store and a real etcd cluster are interchangeable.
//
// - One global revision counter. Every write (create, update, delete) gets a new revision,
//   greater than every earlier one; an object's `metadata.resourceVersion` is the revision of its
//   last write (`modRevision`).
// - Reads can be made "at" an earlier revision as long as it has not been compacted, which is
//   what makes paginated lists consistent: every page is read at the revision of the first.
// - Watches replay history from a revision and then follow live writes, in revision order, with
//   no gaps and no duplicates.
// - Compaction forgets the history before a revision; reading or watching below it fails with
//   `CompactedError`, which the API turns into 410 Expired.

export interface KeyValue {
  key: string;
  /** The stored object, serialised as JSON text. */
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key: the object's resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /** Keys that start with this prefix. */
  prefix: string;
  /** At most this many items (0 or undefined: all). */
  limit?: number;
  /** Start at this key (inclusive); used to continue a paginated list. Must start with `prefix`. */
  startKey?: string;
  /** Read the state as of this revision (0 or undefined: the current revision). */
  revision?: number;
  /**
   * Count the keys that follow a page (`remaining`; default true). A caller that knows the count
   * already (a list continued at its first page's revision) skips it: at a past revision the
   * count reads the whole remaining history.
   */
  countRemaining?: boolean;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more keys under the prefix follow the last returned item. */
  more: boolean;
  /** How many keys under the prefix follow the last returned item, when known. */
  remaining?: number;
}

export type StoreEvent =
  /** A create (`prev` undefined) or an update. */
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  /** A delete: `kv.modRevision` is the revision of the delete; `kv.value` the last value. */
  | { type: 'delete'; kv: KeyValue; prev: KeyValue };

export type TxnOp =
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; expectedModRevision: number }
  | { op: 'delete'; key: string; expectedModRevision?: number }
  /** Writes nothing; fails the transaction unless `key` is still at `expectedModRevision` (fencing). */
  | { op: 'check'; key: string; expectedModRevision: number };

export interface Store {
  /** The current value of `key`, or its value as of `revision`; undefined if absent then. */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;

  /** Keys under a prefix in key order, at one revision. */
  list(options: ListOptions): Promise<ListResult>;

  /** How many keys exist under a prefix now. */
  count(prefix: string): Promise<number>;

  /** Creates `key`; fails with KeyExistsError if it exists. */
  create(key: string, value: string): Promise<KeyValue>;

  /**
   * Replaces the value of `key` if its modRevision is still `expectedModRevision`; otherwise
   * fails with RevisionMismatchError carrying the current value (KeyNotFoundError if absent).
   */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;

  /**
   * Deletes `key` (if `expectedModRevision` is given, only if it still matches) and returns the
   * deleted value with `modRevision` set to the revision of the delete.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /**
   * Applies all operations or none. Fails with the error the first failing operation would
   * have raised alone, wrapped in TxnFailedError with its index. Returns the results in order
   * (for a `check`, the key's current value).
   */
  txn(ops: readonly TxnOp[]): Promise<KeyValue[]>;

  /**
   * Every write under `prefix` with a revision greater than `afterRevision`, in revision order,
   * then live writes until `signal` aborts (the iteration then ends without error). Fails with
   * CompactedError if events after `afterRevision` have been compacted away.
   */
  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent>;

  /** The revision of the latest write (0 for an empty store). */
  currentRevision(): Promise<number>;

  /** The revision below which history is gone (0 if never compacted). */
  compactedRevision(): Promise<number>;

  /** Forgets superseded values and tombstones at or below `revision`. */
  compact(revision: number): Promise<void>;

  close(): Promise<void>;
}

export class StoreError extends Error {}

export class KeyExistsError extends StoreError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
    this.name = 'KeyExistsError';
  }
}

export class KeyNotFoundError extends StoreError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
    this.name = 'KeyNotFoundError';
  }
}

export class RevisionMismatchError extends StoreError {
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly current: KeyValue,
  ) {
    super(`revision mismatch on ${key}: expected ${expected}, current ${current.modRevision}`);
    this.name = 'RevisionMismatchError';
  }
}

export class CompactedError extends StoreError {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`revision ${requested} has been compacted (compacted revision ${compacted})`);
    this.name = 'CompactedError';
  }
}

/** A revision newer than any write: reading there would mean reading the future. */
export class FutureRevisionError extends StoreError {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`revision ${requested} is newer than the current revision ${current}`);
    this.name = 'FutureRevisionError';
  }
}

export class TxnFailedError extends StoreError {
  constructor(
    readonly index: number,
    override readonly cause: StoreError,
  ) {
    super(`transaction operation ${index} failed: ${cause.message}`);
    this.name = 'TxnFailedError';
  }
}
