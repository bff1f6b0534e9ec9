// Records core/v1 Events about objects, so that `kubectl describe` tells their story, the way
// client-go's event recorder does: repeated events (same object, type, reason and message) are
// folded into one Event whose `count` and `lastTimestamp` grow. Recording never throws and never
// blocks the caller; writes go out one at a time in the background and are dropped if they pile
// up (as client-go's recorder drops when its queue of 1,000 is full), so a flood of events cannot
// stall a controller or the agent. Drops are counted and reported (`onDropped`), at most once per
// `dropReportMs`, so that an operator learns that events are missing and why.

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

/** What a component logs when `onDropped` tells it of dropped events. */
export const EVENTS_DROPPED = 'events dropped: more were waiting to be written than the API server took';

export interface EventRecorderOptions {
  /** Events waiting to be written before new ones are dropped (default 1,000, as client-go). */
  maxPending?: number;
  /** Repeated events remembered for folding (default 4,096). */
  maxRemembered?: number;
  onError?: (err: unknown) => void;
  /** Told how many events were dropped: `dropReportMs` after the first drop, then again while drops go on. */
  onDropped?: (count: number) => void;
  /** Default 10 s. */
  dropReportMs?: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Events dropped since the recorder was made. */
  dropped = 0;
  private droppedUnreported = 0;
  private dropReport: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly source: EventSource,
    private readonly options: EventRecorderOptions = {},
  ) {}

  /** Records an event about `object` (any kind); returns at once. */
  event(object: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    if (this.pending >= (this.options.maxPending ?? 1000)) {
      this.drop();
      return;
    }
    this.pending++;
    this.chain = this.chain
      .then(() => this.write(object, type, reason, message, fieldPath))
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => this.pending--);
  }

  private drop(): void {
    this.dropped++;
    this.droppedUnreported++;
    // One report per window: a flood of drops is one line, not one per event.
    this.dropReport ??= setTimeout(() => {
      const count = this.droppedUnreported;
      this.droppedUnreported = 0;
      this.dropReport = undefined;
      this.options.onDropped?.(count);
    }, this.options.dropReportMs ?? 10_000).unref();
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
