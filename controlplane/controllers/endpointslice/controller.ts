// The EndpointSlice controller: keeps the discovery.k8s.io/v1 EndpointSlices of every Service
// with a selector in step with its pods. Informers on Services, pods, nodes and EndpointSlices
// feed a queue of Service keys; `reconcile(key)` computes the wanted endpoints (slices.ts) and
// creates, updates or deletes the Service's managed slices. The proxy and DNS read these.

import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
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
import { ServicePods } from './service-pods.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL, desiredEndpoints, planSlices } from './slices.js';
import { SliceTracker } from './tracker.js';

type SliceObject = EndpointSlice & KubeObject;
type NodeObject = Node & KubeObject;

const slicesResource = resourceFor('discovery.k8s.io', 'endpointslices');
const nodesResource = resourceFor('', 'nodes');

const SERVICE_SLICES_INDEX = 'endpointslice/service';

export interface EndpointSliceControllerOptions {
  workers?: number;
  maxEndpointsPerSlice?: number;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';

  constructor(private readonly options: EndpointSliceControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const sync = new EndpointSliceSync(ctx, this.options);
    if (!(await informersSynced('endpointslice', signal, sync.waitForSync(signal)))) return;
    await runWorkers(sync.queue, this.options.workers ?? 2, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, 'endpointslice'));
  }
}

function isManaged(slice: EndpointSlice): boolean {
  return slice.metadata?.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME && !!slice.metadata?.labels?.[SERVICE_NAME_LABEL];
}

function serviceKeyOf(slice: EndpointSlice): string {
  return `${slice.metadata?.namespace}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
}

class EndpointSliceSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly sources: ServicePods;
  private readonly nodes: Informer<NodeObject>;
  private readonly slices: Informer<SliceObject>;
  private readonly tracker = new SliceTracker();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: EndpointSliceControllerOptions,
  ) {
    this.sources = new ServicePods(ctx);
    this.sources.watch((key) => this.queue.add(key));
    this.nodes = ctx.informers.informer<NodeObject>(nodesResource);
    this.slices = ctx.informers.informer<SliceObject>(slicesResource).addIndex(SERVICE_SLICES_INDEX, (s) => (isManaged(s) ? [serviceKeyOf(s)] : []));
    // Pods wait for their node to be known, and endpoints carry its zone.
    this.nodes.on({
      add: () => this.enqueueAll(),
      update: (old, node) => {
        if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(node.metadata?.labels ?? {})) this.enqueueAll();
      },
      delete: () => this.enqueueAll(),
    });
    const sliceChanged = (slice: SliceObject, gone: boolean) => {
      if (!isManaged(slice)) return;
      this.tracker.observed(serviceKeyOf(slice), slice.metadata?.name ?? '', slice.metadata?.resourceVersion, gone);
      // Someone else's change to a slice we manage is undone.
      this.queue.add(serviceKeyOf(slice));
    };
    this.slices.on({ add: (s) => sliceChanged(s, false), update: (_o, s) => sliceChanged(s, false), delete: (s) => sliceChanged(s, true) });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.sources.waitForSync(signal), this.nodes.waitForSync(signal), this.slices.waitForSync(signal)]);
    this.enqueueAll();
  }

  private enqueueAll(): void {
    for (const s of this.sources.services.list()) if (selectsPods(s)) this.queue.add(objectKey(s));
  }

  async reconcile(key: string): Promise<void | { requeueAfterMs?: number }> {
    const service = this.sources.services.get(key);
    const managed = this.slices.byIndex(SERVICE_SLICES_INDEX, key);
    if (!service) {
      // The garbage collector would remove them through their owner reference; do not wait for it.
      this.tracker.forget(key);
      for (const slice of managed) await this.deleteSlice(key, slice);
      return;
    }
    if (!selectsPods(service)) return;
    const cached = new Map(managed.map((s) => [s.metadata?.name ?? '', s.metadata?.resourceVersion]));
    if (this.tracker.isStale(key, cached)) {
      // Our last writes have not reached the cache: acting now could duplicate slices.
      return { requeueAfterMs: 100 };
    }
    // Slices of another owner with the same labels (e.g. a recreated Service) are not ours.
    const owned = managed.filter((s) => (s.metadata?.ownerReferences ?? []).some((r) => r.uid === service.metadata?.uid) && s.addressType === 'IPv4');
    const stray = managed.filter((s) => !owned.includes(s) && s.addressType === 'IPv4');
    const desired = desiredEndpoints(service, this.sources.podsOf(service), (name) => this.nodes.getByName(undefined, name));
    const plan = planSlices(service, desired, owned, this.options.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE);
    const { namespace } = splitObjectKey(key);
    // Create and update before deleting, so that endpoints never vanish in between.
    for (const slice of plan.create) {
      const created = await this.ctx.client.create<SliceObject>(slicesResource, namespace, slice as SliceObject);
      this.tracker.wrote(key, created.metadata?.name ?? '', created.metadata?.resourceVersion);
    }
    for (const slice of plan.update) {
      const updated = await this.ctx.client.update<SliceObject>(slicesResource, namespace, slice as SliceObject);
      this.tracker.wrote(key, updated.metadata?.name ?? '', updated.metadata?.resourceVersion);
    }
    for (const slice of [...plan.delete, ...stray]) await this.deleteSlice(key, slice);
    // Pods on nodes the cache does not know yet: look again soon.
    if (desired.missingNodes.length > 0) return { requeueAfterMs: 1000 };
  }

  private async deleteSlice(key: string, slice: EndpointSlice): Promise<void> {
    try {
      await this.ctx.client.delete(slicesResource, slice.metadata?.namespace, slice.metadata?.name ?? '', { preconditions: { uid: slice.metadata?.uid } });
      this.tracker.deleted(key, slice.metadata?.name ?? '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
