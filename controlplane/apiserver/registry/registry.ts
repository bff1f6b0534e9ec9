// The generic registry: get, list, watch, create, update, delete of one resource type on the
// Store, with Kubernetes' object semantics (kube-apiserver's generic registry Store):
// system metadata, optimistic concurrency on resourceVersion, status/spec separation,
// generation, graceful deletion with deletionTimestamp and finalizers, dry runs.

import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  internalError,
  invalid,
  notFound,
  StatusError,
  timeout,
} from '../../../api/errors.js';
import type { FieldError, GroupResource } from '../../../api/errors.js';
import type { KubeObject, ObjectMeta } from '../../../api/objects.js';
import { apiVersionOf } from '../../../api/resources.js';
import { sameJson } from '../../../api/same-json.js';
import type { ResourceType } from '../../../api/resources.js';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  TxnFailedError,
} from '../../store/store.js';
import type { KeyValue, Store, TxnOp } from '../../store/store.js';
import type { User } from '../auth.js';
import type { CacheEvent, WatchCache } from '../watchcache.js';
import { cacheEventFrom } from '../watchcache.js';
import { collectionPrefix, decodeObject, encodeObject, encodedWithRevision, objectStorageKey, parseResourceVersion } from './codec.js';
import { conversionFor } from './conversion.js';
import type { Conversion } from './conversion.js';
import { decodeContinue, encodeContinue } from './continue.js';
import type { Strategy } from './strategy.js';
import { deepCopy } from '../../../api/objects.js';
import { kubeTime } from '../../../api/time.js';

/** What a write request carries besides the object. */
export interface WriteOptions {
  dryRun?: boolean;
  /** Commits the write only while the writer still holds its leader lease (see fence.ts). */
  fence?: Fence;
  /** Who asked (admission hooks decide by it); absent for the server's own writes. */
  requester?: User;
}

/**
 * A precondition checked atomically with a write: `resolve` returns the store `check` that must
 * still hold at commit (or throws when it already does not). Resolved again when it fails
 * because the lease merely moved on (a renewal), so only a change of holder stops the write.
 */
export interface Fence {
  /**
   * The check to commit with the write. `fresh` false may answer from what the fence last
   * read (a stale answer only fails the check); a retry after such a failure asks `fresh`.
   */
  resolve(fresh: boolean): Promise<TxnOp>;
}

async function fenceOps(options: WriteOptions, attempt: number): Promise<TxnOp[]> {
  return options.fence ? [await options.fence.resolve(attempt > 0)] : [];
}

/** True when a transaction failed on its trailing fence check (the lease was renewed meanwhile). */
function failedOnFence(err: unknown, ops: readonly TxnOp[], options: WriteOptions): boolean {
  return !!options.fence && err instanceof TxnFailedError && err.index === ops.length - 1 && ops[ops.length - 1]?.op === 'check';
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListQuery {
  /** Keeps only matching objects (label and field selectors). */
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /**
   * The caller only serialises the items as JSON: without a filter they come as text in
   * `encoded` (and `items` stays empty), spliced rather than decoded.
   */
  encoded?: boolean;
  /**
   * The caller only reads the items (renders them): they may be objects shared with other
   * readers, decoded once per revision of each object (WatchCache.decoded), never to be mutated.
   */
  shared?: boolean;
}

export interface ListResult {
  items: KubeObject[];
  /** The items as JSON text, when the query asked for `encoded` and had no filter. */
  encoded?: string[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface WatchQuery {
  filter?: (obj: KubeObject) => boolean;
  resourceVersion?: string;
  /** `sendInitialEvents=true`: start with ADDED events even for a non-zero resourceVersion. */
  sendInitialEvents?: boolean;
}

export type RegistryWatchEvent =
  | {
      type: 'ADDED' | 'MODIFIED' | 'DELETED';
      readonly object: KubeObject;
      rv: number;
      /** The cache event it comes from, when every plain watcher of the resource sends the same bytes. */
      source?: CacheEvent;
      /** `object` as JSON text when it can be had without decoding (see CacheEvent.encoded). */
      encoded?: () => string | undefined;
    }
  | { type: 'INITIAL-EVENTS-END'; rv: number };

/** Hooks the API server gives every registry: validation, defaults, allocations, namespaces. */
export interface RegistryHooks {
  applyDefaults(resource: ResourceType, obj: KubeObject): void;
  validateCreate(resource: ResourceType, obj: KubeObject, requester: User | undefined): FieldError[];
  validateUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject): FieldError[];
  validateStatusUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject): FieldError[];
  /** Throws NotFound / Forbidden (terminating) when objects cannot be created in `namespace`. */
  checkNamespaceForCreate(namespace: string): Promise<void>;
  /** Extra store operations (e.g. IP and port reservations) that must commit with the write. */
  allocate?(resource: ResourceType, obj: KubeObject, old: KubeObject | undefined): Promise<TxnOp[]>;
  release?(resource: ResourceType, obj: KubeObject): TxnOp[];
  /** Extra objects created in the same transaction (e.g. a namespace's default ServiceAccount). */
  companions?(resource: ResourceType, obj: KubeObject): TxnOp[];
  /** Mutating admission of a new object, after defaulting (LimitRanger's defaults). */
  mutateCreate?(resource: ResourceType, obj: KubeObject): void;
  /**
   * Validating admission of a new object, after validation: throws Forbidden, or returns store
   * operations to commit with it (quota charges, compare-and-swap). `fresh` after such an
   * operation failed its revision check.
   */
  admitCreate?(resource: ResourceType, obj: KubeObject, fresh: boolean): Promise<TxnOp[]>;
}

const MAX_CONFLICT_RETRIES = 16;
const GENERATE_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += GENERATE_NAME_CHARS[Math.floor(Math.random() * GENERATE_NAME_CHARS.length)];
  return s;
}

/** Everything but metadata, status and type: what `metadata.generation` counts changes of. */
function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function hasFinalizers(obj: KubeObject): boolean {
  if ((obj.metadata?.finalizers?.length ?? 0) > 0) return true;
  // Namespaces carry their own finalizer list in spec (`kubernetes`), emptied by /finalize.
  const specFinalizers = (obj['spec'] as { finalizers?: string[] } | undefined)?.finalizers;
  return obj.kind === 'Namespace' && (specFinalizers?.length ?? 0) > 0;
}

export class Registry {
  readonly groupResource: GroupResource;
  private readonly conversion: Conversion | undefined;

  constructor(
    readonly resource: ResourceType,
    private readonly store: Store,
    readonly strategy: Strategy,
    private readonly cache: WatchCache,
    private readonly hooks: RegistryHooks,
  ) {
    this.groupResource = { group: resource.group, resource: resource.plural };
    this.conversion = conversionFor(resource);
    this.apiVersion = apiVersionOf(resource);
    this.storedHead = `{"apiVersion":${JSON.stringify(this.apiVersion)},"kind":${JSON.stringify(resource.kind)},"metadata":{`;
  }

  private readonly apiVersion: string;
  /** How the stored text of an object begins when it needs no conversion to be served. */
  private readonly storedHead: string;
  /** What this registry just stored for each object its writes returned (see `encoded`). */
  private readonly lastWrites = new WeakMap<KubeObject, Pick<KeyValue, 'value' | 'modRevision'>>();

  /**
   * `obj` as JSON text, if this registry just wrote it and it was stored in the form it is served
   * in: the stored text with the resourceVersion spliced in, so that the answer to a write is not
   * serialised again. Valid only until the object is changed: callers ask right after the write
   * that returned it.
   */
  encoded(obj: KubeObject): string | undefined {
    const kv = this.lastWrites.get(obj);
    return kv && this.servedAsStored(encodedWithRevision(kv));
  }

  /** `text` (a stored object with its revision spliced in) when it is served as it is stored. */
  private servedAsStored(text: string | undefined): string | undefined {
    return !this.conversion && text?.startsWith(this.storedHead) ? text : undefined;
  }

  private key(namespace: string | undefined, name: string): string {
    return objectStorageKey(this.resource, namespace, name);
  }

  /**
   * Stored form → the object as this resource's version shows it. Returns the same object when
   * nothing needs converting, so cached watch events can be shared between watchers unchanged.
   */
  private external(obj: KubeObject): KubeObject {
    if (this.conversion) return this.conversion.fromStorage(obj);
    if (obj.apiVersion === this.apiVersion && obj.kind === this.resource.kind) return obj;
    return { ...obj, apiVersion: this.apiVersion, kind: this.resource.kind };
  }

  private internal(obj: KubeObject): KubeObject {
    return this.conversion ? this.conversion.toStorage(obj) : obj;
  }

  private decode(kv: KeyValue): KubeObject {
    return this.external(decodeObject(kv));
  }

  private encode(obj: KubeObject): string {
    return encodeObject(this.internal(obj));
  }

  private mapStoreError(err: unknown, name: string): never {
    if (err instanceof StatusError) throw err;
    if (err instanceof TxnFailedError) this.mapStoreError(err.cause, name);
    if (err instanceof KeyExistsError) throw alreadyExists(this.groupResource, name);
    if (err instanceof KeyNotFoundError) throw notFound(this.groupResource, name);
    if (err instanceof RevisionMismatchError) throw conflict(this.groupResource, name);
    throw err;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /** The stored form of an object and its revision, undecoded (for cheap checks like fencing). */
  getStored(namespace: string | undefined, name: string): Promise<KeyValue | undefined> {
    return this.store.get(this.key(namespace, name));
  }

  /**
   * The object as the watch cache last saw it, with its revision, if the cache's window holds
   * it: may lag the store, and is shared (never mutate it). For checks that tolerate that lag,
   * as kube-apiserver's admission plugins read their informers.
   */
  recent(namespace: string | undefined, name: string): { object: KubeObject; rv: number } | undefined {
    const hint = this.cache.recent(this.key(namespace, name));
    return hint && { object: this.external(hint.object), rv: hint.rv };
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.decode(await this.storedOrNotFound(namespace, name));
  }

  /**
   * GET for a client that wants the object as JSON: the stored text with its resourceVersion
   * spliced in (no decoding, no serialising), or the object when it must be converted.
   */
  async getJson(namespace: string | undefined, name: string): Promise<string | KubeObject> {
    const kv = await this.storedOrNotFound(namespace, name);
    return this.servedAsStored(encodedWithRevision(kv)) ?? this.decode(kv);
  }

  private async storedOrNotFound(namespace: string | undefined, name: string): Promise<KeyValue> {
    const kv = await this.store.get(this.key(namespace, name));
    if (!kv) throw notFound(this.groupResource, name);
    return kv;
  }

  async list(namespace: string | undefined, query: ListQuery): Promise<ListResult> {
    const prefix = collectionPrefix(this.resource, namespace);
    let startKey = prefix;
    let revision = 0;
    /** How many items the list has from startKey on, when a continue token says. */
    let known: number | undefined;
    const rv = parseResourceVersion(query.resourceVersion);
    if (Number.isNaN(rv)) throw badRequest(`invalid resourceVersion: ${JSON.stringify(query.resourceVersion)}`);
    const match = query.resourceVersionMatch;
    if (match && match !== 'Exact' && match !== 'NotOlderThan') {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    }
    if (match && rv === undefined) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (query.continueToken) {
      if (rv !== undefined && rv !== 0) {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(query.continueToken, prefix);
      revision = token.revision;
      startKey = token.startKey;
      known = token.remaining;
    } else if (rv !== undefined && rv !== 0) {
      const exact = match === 'Exact' || (match === undefined && (query.limit ?? 0) > 0);
      if (exact) {
        if (match === 'Exact' && rv === 0) throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
        revision = rv!;
      } else {
        const current = await this.store.currentRevision();
        if (current < rv!) throw timeout(`Too large resource version: ${rv}, current: ${current}`);
      }
    }

    const limit = query.limit && query.limit > 0 ? query.limit : 0;
    const items: KubeObject[] = [];
    const encoded = query.encoded && !query.filter ? ([] as string[]) : undefined;
    let listRevision = revision;
    let more = false;
    let lastKey: string | undefined;
    let remaining: number | undefined;
    /** Items read from the store: with `known`, what is left follows from it. */
    let consumed = 0;
    // A filtered list reports no remainingItemCount; a continued one knows it: neither counts.
    const countRemaining = !query.filter && known === undefined;
    // With a filter, keep reading pages until `limit` matches are found (as kube-apiserver does).
    scan: while (true) {
      const page = await this.readPage(prefix, startKey, limit, listRevision, revision, !!query.continueToken, countRemaining);
      listRevision = page.revision;
      for (let i = 0; i < page.items.length; i++) {
        consumed++;
        const kv = page.items[i]!;
        lastKey = kv.key;
        if (encoded) encoded.push((!this.conversion && encodedWithRevision(kv)) || JSON.stringify(this.decode(kv)));
        else {
          const obj = query.shared ? this.external(this.cache.decoded(kv, page.revision)) : this.decode(kv);
          if (query.filter && !query.filter(obj)) continue;
          items.push(obj);
        }
        if (limit && (encoded ?? items).length >= limit) {
          more = i < page.items.length - 1 || page.more;
          remaining = page.remaining === undefined ? undefined : page.remaining + (page.items.length - 1 - i);
          break scan;
        }
      }
      more = page.more;
      remaining = page.remaining;
      if (!more || !limit) break;
      startKey = `${lastKey}\x00`;
    }
    const result: ListResult = { items, resourceVersion: String(listRevision) };
    if (encoded) result.encoded = encoded;
    if (known !== undefined && !query.filter) remaining = Math.max(0, known - consumed);
    if (more && limit && lastKey !== undefined) {
      const left = query.filter ? undefined : remaining;
      result.continueToken = encodeContinue({ revision: listRevision, startKey: `${lastKey}\x00`, remaining: left }, prefix);
      if (left !== undefined) result.remainingItemCount = left;
    }
    return result;
  }

  private async readPage(prefix: string, startKey: string, limit: number, at: number, requested: number, continuing: boolean, countRemaining: boolean) {
    try {
      return await this.store.list({ prefix, startKey, limit, revision: at, countRemaining });
    } catch (err) {
      if (err instanceof CompactedError) {
        if (continuing) {
          throw expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          );
        }
        throw expired(`too old resource version: ${requested} (${err.compacted})`);
      }
      if (err instanceof FutureRevisionError) throw timeout(`Too large resource version: ${requested}, current: ${err.current}`);
      throw err;
    }
  }

  /**
   * Watch events for this resource. With no resourceVersion (or "0") the stream starts with the
   * current objects as ADDED events; otherwise it carries every change after that version.
   */
  async *watch(namespace: string | undefined, query: WatchQuery, signal: AbortSignal): AsyncGenerator<RegistryWatchEvent> {
    const keyPrefix = collectionPrefix(this.resource, namespace);
    const rv = parseResourceVersion(query.resourceVersion);
    if (Number.isNaN(rv)) throw badRequest(`invalid resourceVersion: ${JSON.stringify(query.resourceVersion)}`);
    let after = rv ?? 0;
    const initial = rv === undefined || rv === 0 || query.sendInitialEvents === true;
    if (initial) {
      const snapshot = await this.list(namespace, { filter: query.filter });
      after = Number(snapshot.resourceVersion);
      for (const object of snapshot.items) yield { type: 'ADDED', object, rv: Number(object.metadata?.resourceVersion) };
      if (query.sendInitialEvents) yield { type: 'INITIAL-EVENTS-END', rv: after };
    }
    // The cache's window may reach further back than the store's history; answering by the
    // store keeps one rule for clients: a compacted revision is 410 wherever it is served from.
    const compacted = await this.store.compactedRevision();
    if (!initial && after < compacted) throw expired(`too old resource version: ${after} (${compacted})`);
    const fromCache = this.cache.subscribe(after, keyPrefix, signal);
    const events = fromCache ?? this.storeEvents(keyPrefix, after, signal);
    for await (const event of events) {
      const converted = this.filterEvent(event, query.filter);
      if (converted) yield converted;
    }
  }

  private async *storeEvents(prefix: string, after: number, signal: AbortSignal): AsyncGenerator<CacheEvent> {
    try {
      for await (const ev of this.store.watch(prefix, after, signal)) yield cacheEventFrom(ev);
    } catch (err) {
      if (err instanceof CompactedError) throw expired(`too old resource version: ${after} (${err.compacted})`);
      throw err;
    }
  }

  /**
   * A watcher with a selector sees an object entering the selection as ADDED and leaving it as
   * DELETED (with its previous content), as kube-apiserver's cacher does.
   */
  private filterEvent(event: CacheEvent, filter: ((obj: KubeObject) => boolean) | undefined): RegistryWatchEvent | undefined {
    if (!filter && !this.conversion) {
      // Every plain watcher sends the same bytes: the stored text with its revision spliced in,
      // so an event nobody else reads is neither parsed nor serialised again.
      const external = (obj: KubeObject) => this.external(obj);
      return {
        type: event.type,
        rv: event.rv,
        source: event,
        get object() {
          return external(event.object);
        },
        encoded: () => this.servedAsStored(event.encoded),
      };
    }
    const object = this.external(event.object);
    if (!filter) return { type: event.type, object, rv: event.rv };
    const now = filter(object);
    const prev = event.prevObject ? this.external(event.prevObject) : undefined;
    const before = prev ? filter(prev) : false;
    if (event.type === 'DELETED') return before ? { type: 'DELETED', object, rv: event.rv } : undefined;
    if (now && before) return { type: 'MODIFIED', object, rv: event.rv };
    if (now) return { type: 'ADDED', object, rv: event.rv };
    if (before && prev) {
      return { type: 'DELETED', object: { ...prev, metadata: { ...prev.metadata, resourceVersion: String(event.rv) } }, rv: event.rv };
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  async create(namespace: string | undefined, input: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const inputMeta = input.metadata ?? {};
    if (this.resource.namespaced && inputMeta.namespace && namespace && inputMeta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const objectNamespace = this.resource.namespaced ? (namespace ?? inputMeta.namespace) : undefined;
    if (objectNamespace) await this.hooks.checkNamespaceForCreate(objectNamespace);
    const generated = !inputMeta.name && !!inputMeta.generateName;
    const uid = randomUUID();
    const creationTimestamp = kubeTime();

    let ops: TxnOp[] = [];
    for (let attempt = 0; ; attempt++) {
      // A fresh copy per attempt: defaulting, preparation and allocation mutate it, and a retry
      // (new generated name, a reservation lost to another writer) must start from the input.
      const candidate = deepCopy(input);
      const meta: ObjectMeta = (candidate.metadata ??= {});
      if (objectNamespace) meta.namespace = objectNamespace;
      else delete meta.namespace;
      if (generated) meta.name = `${meta.generateName}${randomSuffix()}`;
      // System fields are the server's (rest.FillObjectMetaSystemFields).
      meta.uid = uid;
      meta.creationTimestamp = creationTimestamp;
      delete meta.resourceVersion;
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      delete meta.managedFields;
      delete meta.selfLink;
      if (this.strategy.tracksGeneration) meta.generation = 1;
      else delete meta.generation;
      this.hooks.applyDefaults(this.resource, candidate);
      this.strategy.prepareForCreate(candidate);
      this.hooks.mutateCreate?.(this.resource, candidate);
      const name = meta.name ?? '';
      try {
        // Allocation comes before validation, as in kube-apiserver: validation sees the
        // allocated ClusterIP and node ports. Nothing is reserved until the transaction runs.
        const allocations = (await this.hooks.allocate?.(this.resource, candidate, undefined)) ?? [];
        const errs = this.hooks.validateCreate(this.resource, candidate, options.requester);
        if (errs.length > 0) throw invalid(this.resource, name, errs);
        const charges = (await this.hooks.admitCreate?.(this.resource, candidate, attempt > 0)) ?? [];
        if (options.dryRun) return candidate;
        const key = this.key(objectNamespace, name);
        const value = this.encode(candidate);
        ops = [{ op: 'create', key, value }, ...allocations, ...charges];
        ops.push(...(this.hooks.companions?.(this.resource, candidate) ?? []));
        ops.push(...(await fenceOps(options, attempt)));
        const [created] = await this.store.txn(ops);
        // What was stored is `candidate` (the stored form carries no resourceVersion).
        meta.resourceVersion = String(created!.modRevision);
        this.lastWrites.set(candidate, { value, modRevision: created!.modRevision });
        return candidate;
      } catch (err) {
        if (attempt < MAX_CONFLICT_RETRIES && failedOnFence(err, ops, options)) continue;
        // A generated name that collides is retried with a new suffix, a few times.
        if (generated && attempt < 8 && err instanceof TxnFailedError && err.index === 0 && err.cause instanceof KeyExistsError) continue;
        // A reservation taken meanwhile by another writer: allocate again.
        if (attempt < 8 && err instanceof TxnFailedError && err.index > 0 && err.cause instanceof KeyExistsError) continue;
        // A quota charged meanwhile by another create: charge it again from its stored status.
        if (attempt < MAX_CONFLICT_RETRIES && err instanceof TxnFailedError && err.index > 0 && err.cause instanceof RevisionMismatchError) continue;
        this.mapStoreError(err, name);
      }
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets the current object and
   * returns the new one (or undefined: nothing to do). With `expectedRv` a concurrent change is
   * a Conflict; without it the update is retried on the fresh object.
   */
  private async guaranteedUpdate(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => Promise<KubeObject | undefined> | KubeObject | undefined,
    options: WriteOptions & { expectedRv?: number; subresource?: string },
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    let ops: TxnOp[] = [];
    for (let attempt = 0; ; attempt++) {
      // The first attempt starts from the watch cache's copy when it has one, as kube-apiserver's
      // GuaranteedUpdate starts from its cached object: no store read, no decode. The write is a
      // compare-and-swap on that copy's revision, so a stale copy fails and the retry reads the store.
      const hint = attempt === 0 ? this.recent(namespace, name) : undefined;
      let current: KubeObject;
      let modRevision: number;
      if (hint && (options.expectedRv === undefined || options.expectedRv === hint.rv)) {
        current = hint.object;
        modRevision = hint.rv;
      } else {
        const kv = await this.store.get(key);
        if (!kv) throw notFound(this.groupResource, name);
        if (options.expectedRv !== undefined && options.expectedRv !== kv.modRevision) throw conflict(this.groupResource, name);
        current = this.decode(kv);
        modRevision = kv.modRevision;
      }
      const next = await mutate(deepCopy(current));
      if (next === undefined) return hint ? deepCopy(current) : current;
      const finalize = this.shouldDeleteAfterUpdate(next);
      if (options.dryRun) return next;
      try {
        const release = finalize ? (this.hooks.release?.(this.resource, current) ?? []) : [];
        const allocations = finalize ? [] : ((await this.hooks.allocate?.(this.resource, next, current)) ?? []);
        const value = finalize ? undefined : this.encode(next);
        const op: TxnOp =
          value === undefined ? { op: 'delete', key, expectedModRevision: modRevision } : { op: 'update', key, value, expectedModRevision: modRevision };
        ops = [op, ...release, ...allocations, ...(await fenceOps(options, attempt))];
        const [written] = await this.store.txn(ops);
        // What was stored is `next`: answer with it rather than decoding the stored text again.
        next.metadata = { ...next.metadata, resourceVersion: String(written!.modRevision) };
        if (value !== undefined) this.lastWrites.set(next, { value, modRevision: written!.modRevision });
        return next;
      } catch (err) {
        if (attempt < MAX_CONFLICT_RETRIES && failedOnFence(err, ops, options)) continue;
        const cause = err instanceof TxnFailedError ? err.cause : err;
        if (cause instanceof RevisionMismatchError || (err instanceof TxnFailedError && err.index > 0 && cause instanceof KeyExistsError)) {
          if (options.expectedRv !== undefined) throw conflict(this.groupResource, name);
          if (attempt < MAX_CONFLICT_RETRIES) continue;
        }
        this.mapStoreError(err, name);
      }
    }
  }

  /**
   * A read-modify-write that bypasses update validation, for subresources whose handler checks
   * its own rules (pods/binding sets spec.nodeName, which a pod update may not change).
   */
  async mutate(
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject | undefined,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.guaranteedUpdate(namespace, name, change, options);
  }

  /** An object being deleted whose last finalizer is gone is removed by the update itself. */
  private shouldDeleteAfterUpdate(obj: KubeObject): boolean {
    const meta = obj.metadata;
    return !!meta?.deletionTimestamp && !hasFinalizers(obj) && (meta.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /**
   * PUT of the whole object (or of its status, or a namespace's finalizers). Returns whether the
   * object was created (for kinds that allow create on update).
   */
  async update(
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    if (input.metadata?.name) this.checkIdentity(input, namespace, name);
    const rv = parseResourceVersion(input.metadata?.resourceVersion);
    if (Number.isNaN(rv)) throw badRequest(`metadata.resourceVersion: Invalid value: ${JSON.stringify(input.metadata?.resourceVersion)}`);
    const exists = await this.store.get(this.key(namespace, name));
    if (!exists) {
      if (this.strategy.allowCreateOnUpdate && !options.subresource) {
        const object = await this.create(namespace, { ...input, metadata: { ...input.metadata, name } }, options);
        return { object, created: true };
      }
      throw notFound(this.groupResource, name);
    }
    const object = await this.guaranteedUpdate(namespace, name, (current) => this.prepareUpdate(input, current, options.subresource), {
      ...options,
      expectedRv: rv,
    });
    return { object, created: false };
  }

  /** Patches go through the same update path after the caller computed the patched object. */
  async patch(
    namespace: string | undefined,
    name: string,
    apply: (current: KubeObject) => KubeObject,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<KubeObject> {
    return this.guaranteedUpdate(
      namespace,
      name,
      (current) => {
        const patched = apply(current);
        this.checkIdentity(patched, namespace, name);
        const rv = parseResourceVersion(patched.metadata?.resourceVersion);
        // A patch that names a resourceVersion is a precondition on it (kube-apiserver does the same).
        if (rv !== undefined && rv !== Number(current.metadata?.resourceVersion)) throw conflict(this.groupResource, name);
        return this.prepareUpdate(patched, current, options.subresource);
      },
      options,
    );
  }

  /** A delete's preconditions against the object as stored: 409 Conflict when it is another one. */
  checkPreconditions(current: KubeObject, pre: DeleteOptions['preconditions']): void {
    const meta = current.metadata ?? {};
    const name = meta.name ?? '';
    if (pre?.uid && pre.uid !== meta.uid) {
      throw conflict(this.groupResource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        this.groupResource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
      );
    }
  }

  /**
   * The object a client sent or patched must be the one the URL names (kube-apiserver's checkName
   * and EnsureObjectNamespaceMatchesRequestNamespace): a patch that renames an object is refused,
   * never silently undone.
   */
  private checkIdentity(obj: KubeObject, namespace: string | undefined, name: string): void {
    const objName = obj.metadata?.name ?? '';
    if (objName !== name) throw badRequest(`the name of the object (${objName}) does not match the name on the URL (${name})`);
    if (this.resource.namespaced && obj.metadata?.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  /** Turns the object a client sent into the object to store, or undefined when nothing changes. */
  private prepareUpdate(input: KubeObject, current: KubeObject, subresource: string | undefined): KubeObject | undefined {
    let next: KubeObject;
    if (subresource === 'status') {
      // The status endpoint changes status only (and keeps everything else as stored).
      next = { ...current, status: input['status'] };
      this.strategy.prepareForUpdate(next, current);
      const errs = this.hooks.validateStatusUpdate(this.resource, next, current);
      if (errs.length > 0) throw invalid(this.resource, current.metadata?.name ?? '', errs);
    } else if (subresource === 'finalize') {
      next = { ...current, spec: { ...(current['spec'] as object), finalizers: (input['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? [] } };
    } else {
      next = deepCopy(input);
      next.apiVersion = current.apiVersion;
      next.kind = current.kind;
      const meta = (next.metadata ??= {});
      const old = current.metadata!;
      // Fields clients cannot change through an update.
      meta.name = old.name;
      if (old.namespace !== undefined) meta.namespace = old.namespace;
      meta.uid = old.uid;
      meta.creationTimestamp = old.creationTimestamp;
      meta.deletionTimestamp = old.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
      meta.generation = old.generation;
      if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
      if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
      if (meta.generation === undefined) delete meta.generation;
      delete meta.managedFields;
      if (this.strategy.hasStatusSubresource) {
        if (current['status'] === undefined) delete next['status'];
        else next['status'] = current['status'];
      }
      // Objects being deleted may lose finalizers but not gain them (apiserver rule).
      if (old.deletionTimestamp) {
        const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
        if (added.length > 0) {
          throw invalid(this.resource, old.name ?? '', [
            { type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` },
          ]);
        }
      }
      this.hooks.applyDefaults(this.resource, next);
      this.strategy.prepareForUpdate(next, current);
      if (this.strategy.tracksGeneration && !sameJson(specOf(next), specOf(current))) meta.generation = (old.generation ?? 0) + 1;
      const errs = this.hooks.validateUpdate(this.resource, next, current);
      if (errs.length > 0) throw invalid(this.resource, old.name ?? '', errs);
    }
    next.metadata = { ...next.metadata, resourceVersion: current.metadata?.resourceVersion };
    // No-op updates are not written: the resourceVersion stays, no watch event is sent. Equal as
    // JSON, whatever the order of keys (a client may send them in any order).
    if (sameJson(next, current)) return undefined;
    return next;
  }

  /**
   * DELETE. Objects with finalizers, and pods on a node, are marked with deletionTimestamp and
   * stay until their finalizers are removed / the agent confirms; everything else goes at once.
   */
  async delete(namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    let ops: TxnOp[] = [];
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(this.groupResource, name);
      const current = this.decode(kv);
      const meta = current.metadata!;
      this.checkPreconditions(current, options.preconditions);
      const next = deepCopy(current);
      const nextMeta = next.metadata!;
      const finalizers = new Set(nextMeta.finalizers ?? []);
      // The garbage collector acts on these two finalizers (Kubernetes' propagation policies).
      if (options.propagationPolicy === 'Orphan') finalizers.add('orphan');
      if (options.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
      if (finalizers.size > 0) nextMeta.finalizers = [...finalizers];
      const grace = this.strategy.gracePeriod?.(current, { gracePeriodSeconds: options.gracePeriodSeconds }) ?? 0;
      const pending = hasFinalizers(next) || grace > 0;

      if (!pending) {
        if (options.dryRun) return { object: current, deleted: true };
        try {
          const release = this.hooks.release?.(this.resource, current) ?? [];
          ops = [{ op: 'delete', key, expectedModRevision: kv.modRevision }, ...release, ...(await fenceOps(options, attempt))];
          const [deleted] = await this.store.txn(ops);
          return { object: { ...current, metadata: { ...meta, resourceVersion: String(deleted!.modRevision) } }, deleted: true };
        } catch (err) {
          if (attempt < MAX_CONFLICT_RETRIES && failedOnFence(err, ops, options)) continue;
          const cause = err instanceof TxnFailedError ? err.cause : err;
          if (cause instanceof RevisionMismatchError && attempt < MAX_CONFLICT_RETRIES) continue;
          this.mapStoreError(err, name);
        }
      }

      // Graceful: record when the object goes; a later delete may shorten but never extend it.
      const deadline = Date.now() + grace * 1000;
      const existing = meta.deletionTimestamp ? Date.parse(meta.deletionTimestamp) : undefined;
      const existingGrace = meta.deletionGracePeriodSeconds;
      if (existing === undefined || deadline < existing || (existingGrace !== undefined && grace < existingGrace)) {
        nextMeta.deletionTimestamp = kubeTime(Math.min(deadline, existing ?? Infinity));
        nextMeta.deletionGracePeriodSeconds = grace;
        if (existing === undefined && nextMeta.generation !== undefined) nextMeta.generation += 1;
      }
      if (next.kind === 'Namespace') (next['status'] as { phase?: string } | undefined ?? (next['status'] = {}) as { phase?: string }).phase = 'Terminating';
      if (JSON.stringify(next) === JSON.stringify(current)) return { object: current, deleted: false };
      if (options.dryRun) return { object: next, deleted: false };
      try {
        ops = [{ op: 'update', key, value: this.encode(next), expectedModRevision: kv.modRevision }, ...(await fenceOps(options, attempt))];
        const [updated] = await this.store.txn(ops);
        // What was stored is `next`: answer with it rather than decoding the stored text again.
        next.metadata = { ...next.metadata, resourceVersion: String(updated!.modRevision) };
        return { object: next, deleted: false };
      } catch (err) {
        if (attempt < MAX_CONFLICT_RETRIES && failedOnFence(err, ops, options)) continue;
        const cause = err instanceof TxnFailedError ? err.cause : err;
        if (cause instanceof RevisionMismatchError && attempt < MAX_CONFLICT_RETRIES) continue;
        this.mapStoreError(err, name);
      }
    }
  }

  async deleteCollection(namespace: string | undefined, query: ListQuery, options: DeleteOptions): Promise<KubeObject[]> {
    const { items } = await this.list(namespace, { filter: query.filter });
    const results: KubeObject[] = [];
    for (const item of items) {
      try {
        const { object } = await this.delete(item.metadata?.namespace, item.metadata!.name!, options);
        results.push(object);
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) continue;
        throw err;
      }
    }
    return results;
  }

  /** Guards against programming errors surfacing as crashes: unknown failures become 500s. */
  static wrap(err: unknown): StatusError {
    return err instanceof StatusError ? err : internalError(err);
  }

  /** Forbidden error for creating objects in a terminating namespace. */
  static namespaceTerminating(resource: ResourceType, namespace: string): StatusError {
    const err = forbidden(
      { group: resource.group, resource: resource.plural },
      '',
      `unable to create new content in namespace ${namespace} because it is being terminated`,
    );
    err.details!.causes = [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }];
    return new StatusError(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, err.details);
  }
}
