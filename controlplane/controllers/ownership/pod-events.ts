// The pod informer's handlers of a workload controller that owns its pods through controller
// references (DaemonSet, StatefulSet): every change of a pod queues its controller, as the cache
// knows it, and counts towards that controller's expectations (a pod seen created, a pod seen
// going); an orphan queues the controllers whose selector matches it, which may adopt it. A pod
// whose deletion started counts as gone (the controller must not wait for it).

import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Informer, InformerHandlers } from '../../../api/informer.js';
import { objectKey } from '../../../api/objects.js';
import type { KubeObject } from '../../../api/objects.js';
import type { Expectations } from '../pods/expectations.js';
import { cachedController, controllersSelecting } from './controller-lookup.js';
import { controllerRefOf } from './controller-ref.js';
import { sameJson } from '../../../api/same-json.js';

type PodObject = Pod & KubeObject;
type Owner = KubeObject & { spec?: { selector?: LabelSelector } };

export function ownedPodEvents<T extends Owner>(
  owners: Informer<T>,
  queue: { add(key: string): void },
  expectations: Expectations,
  /** Which selecting controllers an orphan concerns (default: all of them). */
  mayAdopt: (owner: T, pod: PodObject) => boolean = () => true,
): InformerHandlers<PodObject> {
  const enqueueSelecting = (pod: PodObject) => {
    for (const owner of controllersSelecting(owners, pod)) if (mayAdopt(owner, pod)) queue.add(objectKey(owner));
  };
  const deleted = (pod: PodObject) => {
    const owner = cachedController(owners, pod);
    if (!owner) return;
    expectations.deletionObserved(objectKey(owner), objectKey(pod));
    queue.add(objectKey(owner));
  };
  return {
    add: (pod) => {
      if (pod.metadata?.deletionTimestamp) return deleted(pod);
      if (!controllerRefOf(pod)) return enqueueSelecting(pod);
      const owner = cachedController(owners, pod);
      if (!owner) return;
      expectations.creationObserved(objectKey(owner));
      queue.add(objectKey(owner));
    },
    update: (old, pod) => {
      if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) return deleted(pod);
      const oldRef = controllerRefOf(old);
      const ref = controllerRefOf(pod);
      if (oldRef && oldRef.uid !== ref?.uid) {
        const previous = cachedController(owners, old);
        if (previous) queue.add(objectKey(previous));
      }
      if (ref) {
        const owner = cachedController(owners, pod);
        if (owner) queue.add(objectKey(owner));
        return;
      }
      if (oldRef || !sameJson(old.metadata?.labels ?? {}, pod.metadata?.labels ?? {})) enqueueSelecting(pod);
    },
    delete: deleted,
  };
}
