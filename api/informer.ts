// An informer: list + watch + a local cache of one resource, as client-go's reflector and
// indexer do it. It lists, then watches from the list's resourceVersion; re-watches from the
// last version seen when a watch ends; re-lists (and reconciles the cache, emitting the
// differences) after a 410 or an error; and keeps secondary indexes for lookups such as
// "pods on node X" or "pods owned by UID Y".

import type { KubeClient } from './client.js';
import { StatusError } from './errors.js';
import { objectKey } from './objects.js';
import type { KubeObject } from './objects.js';
import type { ResourceType } from './resources.js';
import { delay as sleep, yieldAfterLongStretch } from './delay.js';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Back-off after a failed list or watch: starts here and doubles to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (err: unknown) => void;
}

type IndexFn<T> = (obj: T) => string[];

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexFns = new Map<string, IndexFn<T>>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceType,
    private readonly options: InformerOptions = {},
  ) {}

  /** Registers handlers; those added after sync get no replay (add them before `start`). */
  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  addIndex(name: string, fn: IndexFn<T>): this {
    this.indexFns.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.items) this.indexObject(name, fn, key, obj);
    return this;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Starts the list/watch loop in the background; resolves once the first list is in the cache. */
  start(signal: AbortSignal): Promise<void> {
    this.running ??= this.run(signal);
    return this.waitForSync(signal);
  }

  /** Resolves when the run loop has ended (after `signal` aborted). */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error('aborted'));
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(filter?: (obj: T) => boolean): T[] {
    const all = [...this.items.values()];
    return filter ? all.filter(filter) : all;
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.items.get(k)!).filter(Boolean);
  }

  // -------------------------------------------------------------------------------------------

  private async run(signal: AbortSignal): Promise<void> {
    const minBackoff = this.options.minBackoffMs ?? 800;
    const maxBackoff = this.options.maxBackoffMs ?? 30_000;
    let backoff = minBackoff;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        // client-go asks for 5 to 10 minutes; the server may end sooner. Re-watch either way.
        const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
        for await (const event of this.client.watch<T>(this.resource, this.options.namespace, {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          signal,
        })) {
          backoff = minBackoff;
          const rv = event.object.metadata?.resourceVersion;
          if (event.type === 'BOOKMARK') {
            if (rv) this.resourceVersion = rv;
            continue;
          }
          if (event.type === 'ERROR') continue;
          this.apply(event.type, event.object);
          if (rv) this.resourceVersion = rv;
        }
      } catch (err) {
        if (signal.aborted) break;
        // 410: our version is too old to resume from; anything else may be transient.
        if (err instanceof StatusError && err.code === 410) needList = true;
        else {
          needList = !this.synced;
          this.options.onError?.(err);
          await sleep(backoff + Math.random() * backoff * 0.2, signal);
          backoff = Math.min(backoff * 2, maxBackoff);
        }
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.listAll<T>(this.resource, this.options.namespace, {
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    });
    const seen = new Set<string>();
    for (const item of list.items) {
      seen.add(objectKey(item));
      this.apply(this.items.has(objectKey(item)) ? 'MODIFIED' : 'ADDED', item);
      // The first list of a large cluster (20,000 pods: half a second of handlers) gives the
      // event loop a turn now and then, so a leader's Lease renewal is not held up behind it.
      // Nobody acts on a cache before it is synced; later relists stay in one piece, so that no
      // reader sees a cache half old and half new.
      if (!this.synced) await yieldAfterLongStretch();
    }
    for (const [key, old] of [...this.items]) if (!seen.has(key)) this.apply('DELETED', old);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter();
    }
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.items.delete(key);
      this.unindex(key, old);
      for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    // Relists deliver unchanged objects again: tell nobody.
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.items.set(key, obj);
    if (old) this.unindex(key, old);
    for (const [name, fn] of this.indexFns) this.indexObject(name, fn, key, obj);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  private indexObject(name: string, fn: IndexFn<T>, key: string, obj: T): void {
    const index = this.indexes.get(name)!;
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexFns) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
