// The resourcequota controller (kube-controller-manager's, 1.32): keeps each ResourceQuota's
// status — hard copied from spec, used counted from the objects that exist — when a quota's spec
// changes, when counted objects go away or change (a deletion gives quota back; a pod reaching a
// terminal phase releases its compute resources), and every resync period (Kubernetes: 5
// minutes), which also corrects what admission charged (controlplane/apiserver/admission/).

import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy, objectKey } from '../../../api/objects.js';
import { isQuotaIgnored } from '../../../api/resource-quotas.js';
import type { ResourceType } from '../../../api/resources.js';
import { PREFERRED_RESOURCES, resourceFor } from '../../../api/resources.js';
import { sameJson } from '../../../api/same-json.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { NAMESPACE_INDEX, indexByNamespace } from '../ownership/informer-indexes.js';
import { syncErrorLogger } from '../sync-errors.js';
import { countedResources, quotaStatus } from './usage.js';

const quotaResource = resourceFor('', 'resourcequotas');
/** Kinds watched so that their changes reach the quotas at once; others wait for the resync. */
const WATCHED: readonly ResourceType[] = ['pods', 'services', 'configmaps', 'secrets', 'resourcequotas'].map((p) => resourceFor('', p));

type Quota = ResourceQuota & KubeObject;

export const DEFAULT_RESYNC_PERIOD_MS = 5 * 60_000;

export interface ResourceQuotaControllerOptions {
  /** --resource-quota-sync-period (Kubernetes: 5 minutes). */
  resyncPeriodMs?: number;
  workers?: number;
}

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  readonly component = 'resourcequota-controller';

  constructor(private readonly options: ResourceQuotaControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const sync = new QuotaSync(ctx);
    if (!(await informersSynced('resourcequota', signal, ctx.informers.waitForSync(signal)))) return;
    const resync = () => {
      for (const quota of sync.quotas.list()) sync.queue.add(objectKey(quota));
    };
    resync();
    const timer = setInterval(resync, this.options.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS);
    try {
      await runWorkers(sync.queue, this.options.workers ?? 1, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, this.name));
    } finally {
      clearInterval(timer);
    }
  }
}

class QuotaSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  readonly quotas: Informer<Quota>;
  private readonly informers = new Map<ResourceType, Informer>();

  constructor(private readonly ctx: ControllerContext) {
    this.quotas = indexByNamespace(ctx.informers.informer<Quota>(quotaResource));
    this.quotas.on({
      add: (quota) => this.queue.add(objectKey(quota)),
      // Its own status writes need no new sync; a spec change (or admission's charge) does not
      // change what exists, except the spec.
      update: (old, quota) => {
        if (!sameJson(old.spec, quota.spec)) this.queue.add(objectKey(quota));
      },
    });
    for (const resource of WATCHED) {
      const informer = resource === quotaResource ? (this.quotas as unknown as Informer) : indexByNamespace(ctx.informers.informer(resource));
      this.informers.set(resource, informer);
      if (resource === quotaResource) continue;
      informer.on({
        // A create was charged by admission; only what gives quota back needs a recount.
        update: (old, obj) => {
          if (resource.plural !== 'pods' || old.status?.['phase' as never] !== obj.status?.['phase' as never]) this.enqueueNamespace(obj);
        },
        delete: (obj) => this.enqueueNamespace(obj),
      });
    }
  }

  private enqueueNamespace(obj: KubeObject): void {
    for (const quota of this.quotas.byIndex(NAMESPACE_INDEX, obj.metadata?.namespace ?? '')) this.queue.add(objectKey(quota));
  }

  /** The namespace's objects of a kind: from its informer when watched, else listed. */
  private async objectsOf(resource: ResourceType, namespace: string): Promise<KubeObject[]> {
    const informer = this.informers.get(resource);
    if (informer) return informer.byIndex(NAMESPACE_INDEX, namespace);
    return (await this.ctx.client.listAll(resource, namespace)).items;
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.quotas.get(key);
    if (!cached) return;
    const quota = deepCopy(cached);
    const namespace = quota.metadata?.namespace ?? '';
    const served = PREFERRED_RESOURCES.filter((r) => !isQuotaIgnored(r));
    const objects = new Map<ResourceType, KubeObject[]>();
    for (const resource of countedResources(Object.keys(quota.spec?.hard ?? {}), served)) {
      objects.set(resource, await this.objectsOf(resource, namespace));
    }
    const status = quotaStatus(quota, objects);
    if (sameJson(quota.status, status)) return;
    // Written on the informer's resourceVersion: a create charged meanwhile makes this a
    // conflict, and the retry counts again with that object in the informer.
    await this.ctx.client.updateStatus<Quota>(quotaResource, namespace, { ...quota, status });
  }
}
