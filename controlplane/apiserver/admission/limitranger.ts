// The LimitRanger admission plugin (plugin/pkg/admission/limitranger, Kubernetes 1.32) for pods:
// on create, containers' and init containers' missing requests and limits come from the
// namespace's Container-type LimitRanges (`defaultRequest`, `default`); then min, max and
// maxLimitRequestRatio of Container and Pod types are enforced. Pod updates are left alone, as
// in Kubernetes (containers cannot be added and their resources cannot change).
// PersistentVolumeClaim-type limits are ignored: Skiff serves no PersistentVolumeClaims.

import type { Container, LimitRange, LimitRangeItem, Pod } from 'kubernetes-types/core/v1.js';
import type { Quantity } from '../../../api/quantity.js';
import type { Usage } from '../../../api/resource-quotas.js';
import { podResourceList, toUsage } from '../../../api/resource-quotas.js';

const ANNOTATION = 'kubernetes.io/limit-ranger';
/** Quantities up to this many units compare in thousandths (resource.MaxMilliValue). */
const MAX_MILLI_VALUE = Number.MAX_SAFE_INTEGER / 1000;

function containersOf(pod: Pod): Container[] {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
}

/**
 * Fills missing requests and limits from the Container-type items (the last LimitRange naming a
 * resource wins, as Kubernetes applies them in turn) and notes what it set in the
 * `kubernetes.io/limit-ranger` annotation.
 */
export function defaultPodResources(pod: Pod, limitRanges: readonly LimitRange[]): void {
  for (const limitRange of limitRanges) {
    const items = (limitRange.spec?.limits ?? []).filter((l) => l.type === 'Container');
    const defaults = { limits: {} as Record<string, string>, requests: {} as Record<string, string> };
    for (const item of items) {
      Object.assign(defaults.requests, item.defaultRequest);
      Object.assign(defaults.limits, item.default);
    }
    const notes: string[] = [];
    for (const c of containersOf(pod)) {
      const resources = (c.resources ??= {});
      const set = (field: 'requests' | 'limits'): string[] => {
        const names: string[] = [];
        for (const [name, value] of Object.entries(defaults[field])) {
          const list = (resources[field] ??= {});
          if (name in list) continue;
          list[name] = value;
          names.push(name);
        }
        return names.sort();
      };
      const limits = set('limits');
      const requests = set('requests');
      if (requests.length > 0) notes.push(`${requests.join(', ')} request for container ${c.name}`);
      if (limits.length > 0) notes.push(`${limits.join(', ')} limit for container ${c.name}`);
    }
    if (notes.length > 0) {
      const metadata = (pod.metadata ??= {});
      metadata.annotations = { ...metadata.annotations, [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
    }
  }
}

/** requestLimitEnforcedValues: thousandths when nothing overflows them, else units. */
function comparable(...qs: (Quantity | undefined)[]): number[] {
  const values = qs.map((q) => q?.value() ?? 0);
  const milli = values.every((v) => v <= MAX_MILLI_VALUE);
  return qs.map((q) => (q ? (milli ? q.milliValue() : q.value()) : 0));
}

function minConstraint(type: string, name: string, enforced: Quantity, requests: Usage, limits: Usage): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  if (!req) return `minimum ${name} usage per ${type} is ${enforced.toString()}.  No request is specified`;
  if (r! < e!) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  if (lim && l! < e!) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: Usage, limits: Usage): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  if (!lim) return `maximum ${name} usage per ${type} is ${enforced.toString()}.  No limit is specified`;
  if (l! > e!) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  if (req && r! > e!) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: Usage, limits: Usage): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l] = comparable(req, lim, enforced);
  const max = enforced.toString();
  if (!req || r === 0) return `${name} max limit to request ratio per ${type} is ${max}, but no request is specified or request is 0`;
  if (!lim || l === 0) return `${name} max limit to request ratio per ${type} is ${max}, but no limit is specified or limit is 0`;
  const observed = l! / r!;
  const allowed = enforced.value() <= MAX_MILLI_VALUE ? enforced.milliValue() / 1000 : enforced.value();
  // Go's %f: six decimals.
  if (observed > allowed) return `${name} max limit to request ratio per ${type} is ${max}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function itemErrors(item: LimitRangeItem, requests: Usage, limits: Usage): string[] {
  const errs: (string | undefined)[] = [];
  for (const [name, q] of toUsage(item.min)) errs.push(minConstraint(item.type, name, q, requests, limits));
  for (const [name, q] of toUsage(item.max)) errs.push(maxConstraint(item.type, name, q, requests, limits));
  for (const [name, q] of toUsage(item.maxLimitRequestRatio)) errs.push(ratioConstraint(item.type, name, q, requests, limits));
  return errs.filter((e): e is string => e !== undefined);
}

/**
 * The first LimitRange the pod violates, as Kubernetes words it (one message, or several as
 * `[a, b]`, utilerrors' aggregate); undefined when every one admits it.
 */
export function limitRangeViolation(pod: Pod, limitRanges: readonly LimitRange[]): string | undefined {
  for (const limitRange of limitRanges) {
    const errs: string[] = [];
    for (const item of limitRange.spec?.limits ?? []) {
      if (item.type === 'Container') {
        for (const c of containersOf(pod)) errs.push(...itemErrors(item, toUsage(c.resources?.requests), toUsage(c.resources?.limits)));
      } else if (item.type === 'Pod') {
        errs.push(...itemErrors(item, podResourceList(pod, 'requests'), podResourceList(pod, 'limits')));
      }
    }
    if (errs.length === 1) return errs[0];
    if (errs.length > 1) return `[${errs.join(', ')}]`;
  }
  return undefined;
}
