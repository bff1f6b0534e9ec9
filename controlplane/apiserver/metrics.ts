// Prometheus metrics of the API server (served on /metrics). Each server has its own registry
// so that several servers in one process (tests, `skiff up`) do not collide.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store, StoreEvent, TxnOp, ListOptions } from '../store/store.js';

export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'skiff_apiserver_requests_total',
    help: 'API requests by verb, resource (group/resource[/subresource]) and HTTP code.',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'skiff_apiserver_request_duration_seconds',
    help: 'Latency of non-streaming API requests by verb and resource.',
    labelNames: ['verb', 'resource'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly watchers: Gauge<'resource'>;
  readonly storeDuration = new Histogram({
    name: 'skiff_apiserver_store_operation_duration_seconds',
    help: 'Latency of store operations by operation.',
    labelNames: ['operation'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'skiff_apiserver_store_errors_total',
    help: 'Store operations that failed for reasons other than a precondition (exists, mismatch, not found).',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  constructor(watcherCounts: () => Map<string, number>) {
    this.watchers = new Gauge({
      name: 'skiff_apiserver_watchers',
      help: 'Open watches by resource.',
      labelNames: ['resource'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [resource, count] of watcherCounts()) this.set({ resource }, count);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'skiff_apiserver_' });
  }
}

const EXPECTED = new Set(['KeyExistsError', 'KeyNotFoundError', 'RevisionMismatchError', 'TxnFailedError', 'CompactedError']);

/** A Store that records the latency of every call; otherwise transparent. */
export function instrumentStore(store: Store, metrics: ApiServerMetrics): Store {
  async function timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const end = metrics.storeDuration.startTimer({ operation });
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof Error && EXPECTED.has(err.name))) metrics.storeErrors.inc({ operation });
      throw err;
    } finally {
      end();
    }
  }
  return {
    get: (key: string, revision?: number) => timed('get', () => store.get(key, revision)),
    list: (options: ListOptions) => timed('list', () => store.list(options)),
    count: (prefix: string) => timed('count', () => store.count(prefix)),
    create: (key: string, value: string) => timed('create', () => store.create(key, value)),
    update: (key: string, value: string, rev: number) => timed('update', () => store.update(key, value, rev)),
    delete: (key: string, rev?: number) => timed('delete', () => store.delete(key, rev)),
    txn: (ops: readonly TxnOp[]) => timed('txn', () => store.txn(ops)),
    watch: (prefix: string, after: number, signal: AbortSignal): AsyncIterable<StoreEvent> => store.watch(prefix, after, signal),
    currentRevision: () => timed('currentRevision', () => store.currentRevision()),
    compactedRevision: () => store.compactedRevision(),
    compact: (revision: number) => timed('compact', () => store.compact(revision)),
    close: () => store.close(),
  };
}
