// The legacy Endpoints controller: one core/v1 Endpoints object per Service with a selector,
// named like the Service, kept in step with its pods (legacy-endpoints.ts) and deleted with the
// Service. Endpoints of Services without a selector belong to their users and are left alone.

import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey, splitObjectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { syncErrorLogger } from '../sync-errors.js';
import { selectsPods } from './endpoints-of-pods.js';
import { OVER_CAPACITY_ANNOTATION, SKIP_MIRROR_LABEL, endpointsLabels, endpointsSubsets } from './legacy-endpoints.js';
import { ServicePods } from './service-pods.js';

type EndpointsObject = Endpoints & KubeObject;

const endpointsResource = resourceFor('', 'endpoints');

export interface EndpointsControllerOptions {
  workers?: number;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  /** Kubernetes' name for the legacy controller's events. */
  readonly component = 'endpoint-controller';

  constructor(private readonly options: EndpointsControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
    const sources = new ServicePods(ctx);
    const endpoints = ctx.informers.informer<EndpointsObject>(endpointsResource);
    sources.watch((key) => queue.add(key));
    // An Endpoints object someone else changed or deleted is put back.
    endpoints.on({ update: (_o, e) => queue.add(objectKey(e)), delete: (e) => queue.add(objectKey(e)) });
    if (!(await informersSynced('endpoints', signal, Promise.all([sources.waitForSync(signal), endpoints.waitForSync(signal)])))) return;
    for (const s of sources.services.list()) queue.add(objectKey(s));
    for (const e of endpoints.list()) if (e.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') queue.add(objectKey(e));
    const reconcile = (key: string) => reconcileEndpoints(ctx, sources, endpoints, key);
    await runWorkers(queue, this.options.workers ?? 2, reconcile, signal, syncErrorLogger(ctx.logger, 'endpoints'));
  }
}

async function reconcileEndpoints(ctx: ControllerContext, sources: ServicePods, endpoints: Informer<EndpointsObject>, key: string): Promise<void> {
  const { namespace = '', name } = splitObjectKey(key);
  const service = sources.services.get(key);
  const current = endpoints.get(key);
  if (!service) {
    // Only the Endpoints this controller made (a user's own for a missing Service stay).
    if (current?.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') {
      await ctx.client.delete(endpointsResource, namespace, name, { preconditions: { uid: current.metadata?.uid } }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    return;
  }
  if (!selectsPods(service)) return;
  const { subsets, truncated } = endpointsSubsets(service, sources.podsOf(service));
  const labels = endpointsLabels(service);
  const annotations: Record<string, string> = { ...current?.metadata?.annotations };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const next: EndpointsObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...current?.metadata, name, namespace, labels, annotations },
    subsets,
  };
  if (current && JSON.stringify([current.subsets ?? [], current.metadata?.labels ?? {}, current.metadata?.annotations ?? {}]) === JSON.stringify([subsets, labels, annotations])) return;
  // A create that meets an object the cache has not shown yet fails with AlreadyExists and is
  // retried as an update; an update on a stale copy fails with a conflict and is retried.
  if (!current) await ctx.client.create(endpointsResource, namespace, next);
  else await ctx.client.update(endpointsResource, namespace, next);
}
