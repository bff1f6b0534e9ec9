// Records core/v1 Events about objects, so that `kubectl describe` tells their story, the way
// client-go's event recorder does: repeated events (same object, type, reason and message) are
// folded into one Event whose `count` and `lastTimestamp` grow. Recording never throws and never
// blocks the caller; writes go out one at a time in the background and are dropped (with a
// count) if they pile up, so a flood of events cannot stall a controller or the agent.

import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.js';
import { isNotFound } from './client.js';
import type { KubeObject } from './objects.js';
import { resourceFor } from './resources.js';
import { kubeTime } from './time.js';

const events = resourceFor('', 'events');

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  dropped = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly source: EventSource,
    private readonly options: { maxPending?: number; maxRemembered?: number; onError?: (err: unknown) => void } = {},
  ) {}

  /** Records an event about `object` (any kind); returns at once. */
  event(object: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    if (this.pending >= (this.options.maxPending ?? 1000)) {
      this.dropped++;
      return;
    }
    this.pending++;
    this.chain = this.chain
      .then(() => this.write(object, type, reason, message, fieldPath))
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => this.pending--);
  }

  /** Resolves when every event recorded so far has been written (for tests and shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(object: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const meta = object.metadata ?? {};
    // Events about cluster-scoped objects (nodes) live in `default`, as Kubernetes puts them.
    const namespace = meta.namespace || 'default';
    const involvedObject: Record<string, string> = {
      kind: object.kind ?? '',
      namespace: meta.namespace ?? '',
      name: meta.name ?? '',
      uid: meta.uid ?? '',
      apiVersion: object.apiVersion ?? '',
    };
    if (meta.resourceVersion) involvedObject['resourceVersion'] = meta.resourceVersion;
    if (fieldPath) involvedObject['fieldPath'] = fieldPath;
    if (!meta.namespace) delete involvedObject['namespace'];
    const key = JSON.stringify([meta.uid ?? `${namespace}/${meta.name}`, fieldPath ?? '', type, reason, message]);
    const now = kubeTime();
    const seen = this.recent.get(key);
    if (seen) {
      try {
        await this.client.patch(events, seen.namespace, seen.name, { count: seen.count + 1, lastTimestamp: now });
        seen.count++;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.recent.delete(key); // expired or deleted: start a new one
      }
    }
    const name = `${meta.name ?? 'object'}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await this.client.create(events, namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      type,
      source: this.source.host ? { component: this.source.component, host: this.source.host } : { component: this.source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    });
    this.recent.set(key, { name, namespace, count: 1 });
    if (this.recent.size > (this.options.maxRemembered ?? 4096)) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}
