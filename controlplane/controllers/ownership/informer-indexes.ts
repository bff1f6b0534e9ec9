// Secondary indexes the workload controllers put on the shared informers, so that "the pods of
// namespace N" and "the objects controlled by UID U" are lookups instead of scans. The names are
// prefixed so that other components' indexes on the same shared informers cannot clash.

import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { controllerRefOf } from './controller-ref.js';

export const NAMESPACE_INDEX = 'workloads/namespace';
export const CONTROLLER_UID_INDEX = 'workloads/controller-uid';

export function indexByNamespace<T extends KubeObject>(informer: Informer<T>): Informer<T> {
  return informer.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata?.namespace ?? '']);
}

export function indexByControllerUid<T extends KubeObject>(informer: Informer<T>): Informer<T> {
  return informer.addIndex(CONTROLLER_UID_INDEX, (obj) => {
    const ref = controllerRefOf(obj);
    return ref ? [ref.uid] : [];
  });
}
