// The LimitRanges and ResourceQuotas of every namespace, kept in memory from the registries'
// watch (initial list, then the watch cache's events), as kube-apiserver's LimitRanger and
// ResourceQuota plugins read them from informers: admission of a create in a namespace without
// either costs one map lookup, never a store read. The copy may lag a write by the time its
// watch event takes; a quota's charge is a compare-and-swap on its resourceVersion, so a stale
// status.used costs a retry from the store, never a wrong charge.

import type { LimitRange } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { KubeObject } from '../../../api/objects.js';
import type { Registry } from '../registry/registry.js';
import type { QuotaObject } from './resourcequota.js';

class NamespacedIndex<T extends KubeObject> {
  private byNamespace = new Map<string, Map<string, T>>();
  private synced!: () => void;
  readonly ready = new Promise<void>((resolve) => (this.synced = resolve));

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {}

  /** The objects in `namespace`, in name order (the order Kubernetes' listers give). */
  list(namespace: string): T[] {
    const objects = this.byNamespace.get(namespace);
    if (!objects) return [];
    return [...objects.keys()].sort().map((name) => objects.get(name)!);
  }

  /**
   * Follows the registry until `signal` aborts, starting over with a fresh list after an error.
   * A fresh list is built aside and replaces the old one once complete, so admission never sees
   * a namespace's policies missing while the watch restarts.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        // Until the initial list is complete, a new map; then the live one, kept up to date.
        const objectsOf = new Map<string, Map<string, T>>();
        for await (const event of this.registry.watch(undefined, { sendInitialEvents: true }, signal)) {
          if (event.type === 'INITIAL-EVENTS-END') {
            this.byNamespace = objectsOf;
            this.synced();
            continue;
          }
          const { namespace = '', name = '' } = event.object.metadata ?? {};
          let objects = objectsOf.get(namespace);
          if (event.type === 'DELETED') {
            objects?.delete(name);
            if (objects?.size === 0) objectsOf.delete(namespace);
          } else {
            if (!objects) objectsOf.set(namespace, (objects = new Map()));
            objects.set(name, { ...event.object, metadata: { ...event.object.metadata, resourceVersion: String(event.rv) } } as T);
          }
        }
      } catch (err) {
        if (signal.aborted) break;
        this.logger.error({ err, resource: this.registry.resource.plural }, 'admission policy watch restarted');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

export class NamespacePolicies {
  readonly limitRanges: NamespacedIndex<LimitRange & KubeObject>;
  readonly quotas: NamespacedIndex<QuotaObject>;
  private readonly abort = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(limitRanges: Registry, quotas: Registry, logger: Logger) {
    this.limitRanges = new NamespacedIndex(limitRanges, logger);
    this.quotas = new NamespacedIndex(quotas, logger);
  }

  /** Resolves once both have their initial lists. */
  async start(): Promise<void> {
    this.running = Promise.all([this.limitRanges.run(this.abort.signal), this.quotas.run(this.abort.signal)]);
    await Promise.all([this.limitRanges.ready, this.quotas.ready]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
