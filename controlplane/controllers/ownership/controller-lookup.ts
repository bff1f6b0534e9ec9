// Which controllers a changed object concerns, read from the informer cache, as the workload
// controllers' event handlers ask it: the controller its controller reference names (only if the
// cache holds that very object, same UID), or for an orphan the controllers in its namespace whose
// selector matches it, which may adopt it.

import type { LabelSelector as MetaLabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { controllerRefOf } from './controller-ref.js';
import { NAMESPACE_INDEX } from './informer-indexes.js';

/** The controller of `obj` among `controllers` (of the kind the informer watches), if cached. */
export function cachedController<T extends KubeObject>(controllers: Informer<T>, obj: { metadata?: ObjectMeta }): T | undefined {
  const ref = controllerRefOf(obj);
  if (!ref || ref.kind !== controllers.resource.kind) return undefined;
  const controller = controllers.getByName(obj.metadata?.namespace, ref.name);
  return controller?.metadata?.uid === ref.uid ? controller : undefined;
}

/**
 * The controllers in `obj`'s namespace whose valid, non-empty selector matches its labels. The
 * informer must be indexed by namespace (indexByNamespace).
 */
export function controllersSelecting<T extends KubeObject & { spec?: { selector?: MetaLabelSelector } }>(controllers: Informer<T>, obj: { metadata?: ObjectMeta }): T[] {
  return controllers.byIndex(NAMESPACE_INDEX, obj.metadata?.namespace ?? '').filter((c) => {
    const converted = selectorFromLabelSelector(c.spec?.selector);
    return converted.ok && !converted.selector.empty && converted.selector.matches(obj.metadata?.labels);
  });
}
