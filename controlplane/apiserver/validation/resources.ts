// Container resource requirements (core validation validateResourceRequirements): resource
// names, quantities, requests not above limits, and the resources that cannot be overcommitted.

import type { ResourceRequirements } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isQualifiedName } from '../../../api/names.js';
import type { FieldPath } from './field-path.js';
import { entries, has } from './json-shapes.js';
import type { Quantity } from './quantity.js';
import { compareQuantities, formatQuantity, isWholeNumber, parseQuantity } from './quantity.js';

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
/** Names Kubernetes knows without a domain (helper.IsStandardResourceName), for the first message. */
export const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas',
  'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers',
  'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);

export const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
/** Native resources are unprefixed or in kubernetes.io; everything else is an extended resource. */
const isNative = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isExtended = (name: string): boolean => !isNative(name) && !name.startsWith('requests.');
/** Only native resources other than huge pages may have requests below limits. */
const overcommitAllowed = (name: string): boolean => isNative(name) && !isHugePages(name);

/** A resource name in a container's (or a Container/Pod LimitRange's) resource list. */
export function validateContainerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => fieldError.invalid(path.toString(), name, msg));
  if (errs.length > 0) return errs;
  if (!name.includes('/')) {
    if (!STANDARD_RESOURCES.has(name) && !isHugePages(name)) {
      errs.push(fieldError.invalid(path.toString(), name, 'must be a standard resource type or fully qualified'));
    }
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePages(name)) {
      errs.push(fieldError.invalid(path.toString(), name, 'must be a standard resource for containers'));
    }
  } else if (!isNative(name) && !isExtended(name)) {
    errs.push(fieldError.invalid(path.toString(), name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** A quantity for `name`, or the errors that make it unusable. */
function validateQuantity(name: string, raw: unknown, path: FieldPath, errs: FieldError[]): Quantity | undefined {
  const q = parseQuantity(raw);
  if (typeof q === 'string') {
    // Kubernetes rejects these while decoding the body (400); Skiff reports them with the rest.
    errs.push(fieldError.invalid(path.toString(), raw, q));
    return undefined;
  }
  if (q.sign() < 0) errs.push(fieldError.invalid(path.toString(), formatQuantity(q), 'must be greater than or equal to 0'));
  if (isExtended(name) && !isWholeNumber(q)) errs.push(fieldError.invalid(path.toString(), formatQuantity(q), 'must be an integer'));
  return q;
}

export function validateResourceRequirements(req: ResourceRequirements | undefined, path: FieldPath): FieldError[] {
  if (!has(req)) return [];
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = new Map<string, Quantity | undefined>();
  let cpuOrMemory = false;
  let hugePages = false;
  for (const [name, raw] of entries(req.limits)) {
    const p = limPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    limits.set(name, validateQuantity(name, raw, p, errs));
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
    if (isHugePages(name)) hugePages = true;
  }
  for (const [name, raw] of entries(req.requests)) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const q = validateQuantity(name, raw, p, errs);
    if (limits.has(name)) {
      const limit = limits.get(name);
      if (q && limit) {
        const cmp = compareQuantities(q, limit);
        if (cmp !== 0 && !overcommitAllowed(name)) {
          errs.push(fieldError.invalid(reqPath.toString(), formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
        } else if (cmp > 0) {
          errs.push(fieldError.invalid(reqPath.toString(), formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
        }
      }
    } else if (!overcommitAllowed(name)) {
      errs.push(fieldError.required(limPath.toString(), 'Limit must be set for non overcommitable resources'));
    }
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
    if (isHugePages(name)) hugePages = true;
  }
  if (hugePages && !cpuOrMemory) errs.push(fieldError.forbidden(path.toString(), 'HugePages require cpu or memory'));
  return errs;
}
