// The informers both endpoint controllers watch (Services, pods, and for slices nodes and
// EndpointSlices), and which Services a pod change concerns: those whose selector matches the
// pod's labels before or after the change, and only if something endpoints show changed.

import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import type { ControllerContext } from '../context.js';
import { NAMESPACE_INDEX, indexByNamespace } from '../ownership/informer-indexes.js';
import { isPodReady } from '../pods/pod-state.js';
import { selectorMatches, selectsPods } from './endpoints-of-pods.js';

export type ServiceObject = Service & KubeObject;
export type PodObject = Pod & KubeObject;

export const servicesResource = resourceFor('', 'services');
export const podsResource = resourceFor('', 'pods');

/** What of a pod its endpoints show: a change elsewhere (e.g. a container's restart count) is ignored. */
function endpointView(pod: Pod): string {
  return JSON.stringify([
    pod.metadata?.labels ?? {},
    pod.metadata?.deletionTimestamp ?? '',
    pod.status?.podIP ?? '',
    pod.status?.podIPs ?? [],
    pod.status?.phase ?? '',
    isPodReady(pod),
    pod.spec?.nodeName ?? '',
    pod.spec?.hostname ?? '',
    pod.spec?.subdomain ?? '',
  ]);
}

export class ServicePods {
  readonly services: Informer<ServiceObject>;
  readonly pods: Informer<PodObject>;

  constructor(ctx: ControllerContext) {
    this.services = indexByNamespace(ctx.informers.informer<ServiceObject>(servicesResource));
    this.pods = indexByNamespace(ctx.informers.informer<PodObject>(podsResource));
  }

  /** Calls `enqueue(serviceKey)` for every Service a change concerns. */
  watch(enqueue: (serviceKey: string) => void): void {
    this.services.on({
      add: (s) => enqueue(objectKey(s)),
      update: (_o, s) => enqueue(objectKey(s)),
      delete: (s) => enqueue(objectKey(s)),
    });
    const podChanged = (old: Pod | undefined, pod: Pod) => {
      if (old && endpointView(old) === endpointView(pod)) return;
      for (const s of this.servicesSelecting(pod)) enqueue(objectKey(s));
      if (old && JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {})) {
        for (const s of this.servicesSelecting(old)) enqueue(objectKey(s));
      }
    };
    this.pods.on({
      add: (p) => podChanged(undefined, p),
      update: (old, p) => podChanged(old, p),
      delete: (p) => {
        for (const s of this.servicesSelecting(p)) enqueue(objectKey(s));
      },
    });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.services.waitForSync(signal), this.pods.waitForSync(signal)]);
  }

  servicesSelecting(pod: Pod): ServiceObject[] {
    return this.services.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '').filter((s) => selectsPods(s) && selectorMatches(s, pod));
  }

  podsOf(service: Service): PodObject[] {
    return this.pods.byIndex(NAMESPACE_INDEX, service.metadata?.namespace ?? '').filter((p) => selectorMatches(service, p));
  }
}
