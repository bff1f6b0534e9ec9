// The watch cache: one Store watch per resource, fanned out to every API watcher of that
// resource, with a window of recent events so that watchers (re)starting from a recent
// resourceVersion are served from memory. Many watchers therefore cost one store watch, and one
// decode per event (kube-apiserver's cacher, much simplified: Skiff serves lists from the store,
// but reuses the objects that earlier lists decoded while they are current, see `decoded`).

import type { KubeObject } from '../../api/objects.js';
import type { KeyValue, Store, StoreEvent } from '../store/store.js';
import { decodeObject, encodedWithRevision } from './registry/codec.js';

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  rv: number;
  /** The object after the write (for DELETED: its last state, with the delete's revision). */
  readonly object: KubeObject;
  readonly prevObject?: KubeObject;
  /**
   * `object` as JSON text, spliced from the stored text rather than decoded and serialised
   * again (see `encodedWithRevision`); undefined for text not in the stored layout.
   */
  readonly encoded?: string;
  /** Serialisations shared by every watcher that sends the same bytes (see `memoize`). */
  memo?: Map<string, string>;
}

/**
 * A cache event whose objects are decoded on first use: resources nobody watches (events, in
 * most clusters) then cost no JSON parsing at all, and watched ones are parsed once for every
 * watcher.
 */
export function cacheEventFrom(ev: StoreEvent): CacheEvent {
  let object: KubeObject | undefined;
  let prevObject: KubeObject | undefined;
  let encoded: string | undefined | null = null;
  const prevKv = ev.prev;
  const objectKv = ev.type === 'delete' ? { ...ev.prev, modRevision: ev.kv.modRevision } : ev.kv;
  return {
    type: ev.type === 'delete' ? 'DELETED' : ev.prev ? 'MODIFIED' : 'ADDED',
    key: ev.kv.key,
    rv: ev.kv.modRevision,
    get object() {
      return (object ??= decodeObject(objectKv));
    },
    get prevObject() {
      if (!prevKv) return undefined;
      return (prevObject ??= decodeObject(prevKv));
    },
    get encoded() {
      if (encoded === null) encoded = encodedWithRevision(objectKv);
      return encoded;
    },
  };
}

/** Computes a serialisation of an event once, whichever watcher asks first. */
export function memoize(event: CacheEvent, id: string, render: () => string): string {
  event.memo ??= new Map();
  let text = event.memo.get(id);
  if (text === undefined) {
    text = render();
    event.memo.set(id, text);
  }
  return text;
}

export class WatcherTooSlowError extends Error {
  constructor(limit: number) {
    super(`watcher fell more than ${limit} events behind and was closed`);
    this.name = 'WatcherTooSlowError';
  }
}

export class CacheRestartedError extends Error {
  constructor(cause: unknown) {
    super(`the watch cache restarted: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'CacheRestartedError';
  }
}

class Subscriber {
  private queue: CacheEvent[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private done = false;

  constructor(
    readonly keyPrefix: string,
    readonly afterRv: number,
    private readonly maxQueue: number,
  ) {}

  push(event: CacheEvent): void {
    if (this.done || this.failure) return;
    if (event.rv <= this.afterRv || !event.key.startsWith(this.keyPrefix)) return;
    if (this.queue.length - this.head >= this.maxQueue) {
      this.fail(new WatcherTooSlowError(this.maxQueue));
      return;
    }
    this.queue.push(event);
    this.notify();
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  close(): void {
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *events(): AsyncGenerator<CacheEvent> {
    while (true) {
      if (this.head < this.queue.length) {
        const event = this.queue[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        yield event;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export interface WatchCacheOptions {
  /** Keep at least this many recent events... */
  capacity?: number;
  /** ...and every event younger than this (kube-apiserver keeps 75 s). */
  minAgeMs?: number;
  /** Hard bound on the window, whatever the age. */
  maxEvents?: number;
  /** A watcher further behind than this is closed (the client re-watches). */
  maxWatcherQueue?: number;
}

export class WatchCache {
  private events: { event: CacheEvent; at: number }[] = [];
  private head = 0;
  /** Every event after this revision (under the prefix) is in the window. */
  private windowStartRv = 0;
  private latest = 0;
  /** The newest event of each key still in the window. */
  private readonly newest = new Map<string, CacheEvent>();
  /** Objects that lists decoded, while still current: any event of their key drops them. */
  private readonly decodedObjects = new Map<string, KubeObject>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly abort = new AbortController();
  private readonly options: Required<WatchCacheOptions>;
  private running: Promise<void> | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    options: WatchCacheOptions = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.options = {
      capacity: options.capacity ?? 1000,
      minAgeMs: options.minAgeMs ?? 75_000,
      maxEvents: options.maxEvents ?? 100_000,
      maxWatcherQueue: options.maxWatcherQueue ?? 10_000,
    };
  }

  /** Starts following the store from its current revision. */
  start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve) => {
      this.running = this.run(resolve);
    });
    return this.ready;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const s of this.subscribers) s.close();
    this.subscribers.clear();
    await this.running;
  }

  get latestRevision(): number {
    return this.latest;
  }

  get watcherCount(): number {
    return this.subscribers.size;
  }

  private async run(onReady: () => void): Promise<void> {
    let backoffMs = 100;
    while (!this.abort.signal.aborted) {
      try {
        const rv = await this.store.currentRevision();
        this.reset(rv);
        const stream = this.store.watch(this.prefix, rv, this.abort.signal);
        onReady();
        for await (const storeEvent of stream) {
          this.append(cacheEventFrom(storeEvent));
          backoffMs = 100;
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.onError(err);
        // Watchers cannot know what they missed: close them so that clients re-watch.
        for (const s of this.subscribers) s.fail(new CacheRestartedError(err));
        this.subscribers.clear();
        onReady();
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  /**
   * The object at `key` as the newest event in the window left it, if any: a hint that may lag
   * the store (the cache follows it asynchronously). Never mutate the object; it is shared.
   */
  recent(key: string): { object: KubeObject; rv: number } | undefined {
    const event = this.newest.get(key);
    return event && event.type !== 'DELETED' ? { object: event.object, rv: event.rv } : undefined;
  }

  /**
   * `kv` decoded (in its stored form), or taken from an earlier read of the same revision of the
   * key: a list of 10,000 pods for a Table or a selector then parses only what changed since the
   * last one. `readAt` is the revision the caller read `kv` at; what it decodes is kept only if
   * the cache has not yet applied an event after it (a later event of the key, applied after
   * this, then drops it: nothing stale or deleted stays). Callers must never mutate the object.
   */
  decoded(kv: KeyValue, readAt: number): KubeObject {
    const known = this.decodedObjects.get(kv.key);
    if (known && known.metadata?.resourceVersion === String(kv.modRevision)) return known;
    const object = decodeObject(kv);
    if (readAt >= this.latest && kv.modRevision <= readAt) this.decodedObjects.set(kv.key, object);
    return object;
  }

  /** How many decoded objects are kept (for tests). */
  get decodedCount(): number {
    return this.decodedObjects.size;
  }

  private reset(rv: number): void {
    this.newest.clear();
    this.decodedObjects.clear();
    this.events = [];
    this.head = 0;
    this.windowStartRv = rv;
    this.latest = rv;
  }

  private append(event: CacheEvent): void {
    const now = Date.now();
    this.events.push({ event, at: now });
    this.newest.set(event.key, event);
    this.decodedObjects.delete(event.key);
    this.latest = event.rv;
    this.evict(now);
    for (const s of this.subscribers) s.push(event);
  }

  private evict(now: number): void {
    const { capacity, minAgeMs, maxEvents } = this.options;
    while (this.events.length - this.head > capacity) {
      const oldest = this.events[this.head]!;
      if (now - oldest.at < minAgeMs && this.events.length - this.head <= maxEvents) break;
      this.windowStartRv = oldest.event.rv;
      if (this.newest.get(oldest.event.key) === oldest.event) this.newest.delete(oldest.event.key);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Events under `keyPrefix` with a revision greater than `afterRv`, then live events, until
   * `signal` aborts. Undefined when `afterRv` is older than the window: the caller must then
   * read history from the store.
   */
  subscribe(afterRv: number, keyPrefix: string, signal: AbortSignal): AsyncGenerator<CacheEvent> | undefined {
    if (afterRv < this.windowStartRv) return undefined;
    const subscriber = new Subscriber(keyPrefix, afterRv, this.options.maxWatcherQueue);
    // Replay from the window, then register: both happen synchronously, so no event falls between.
    for (let i = this.firstIndexAfter(afterRv); i < this.events.length; i++) subscriber.push(this.events[i]!.event);
    this.subscribers.add(subscriber);
    const unsubscribe = (): void => {
      this.subscribers.delete(subscriber);
      subscriber.close();
    };
    if (signal.aborted) unsubscribe();
    else signal.addEventListener('abort', unsubscribe, { once: true });
    const subscribers = this.subscribers;
    return (async function* () {
      try {
        yield* subscriber.events();
      } finally {
        subscribers.delete(subscriber);
        signal.removeEventListener('abort', unsubscribe);
      }
    })();
  }

  private firstIndexAfter(rv: number): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.event.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
