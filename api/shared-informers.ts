// One informer per (resource, namespace, selectors), shared by every controller of a process,
// so that the scheduler and all controllers together open one watch per resource.

import type { KubeClient } from './client.js';
import { Informer } from './informer.js';
import type { InformerOptions } from './informer.js';
import type { KubeObject } from './objects.js';
import type { ResourceType } from './resources.js';

export class SharedInformers {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started: AbortSignal | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly defaults: Pick<InformerOptions, 'onError' | 'minBackoffMs' | 'maxBackoffMs'> = {},
  ) {}

  /** The informer for a resource (created on first use; started if the set already runs). */
  informer<T extends KubeObject = KubeObject>(resource: ResourceType, options: Omit<InformerOptions, 'onError'> = {}): Informer<T> {
    const key = JSON.stringify([resource.group, resource.plural, options.namespace ?? '', options.labelSelector ?? '', options.fieldSelector ?? '']);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>(this.client, resource, { ...this.defaults, ...options });
      this.informers.set(key, informer);
      if (this.started) void informer.start(this.started).catch(() => undefined);
    }
    return informer as unknown as Informer<T>;
  }

  /** Starts every informer created so far (and any created later) and waits until all synced. */
  async start(signal: AbortSignal): Promise<void> {
    this.started = signal;
    await Promise.all([...this.informers.values()].map((i) => i.start(signal)));
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  async stopped(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stopped()));
  }
}
