// core/v1 LimitRanges and ResourceQuotas (pkg/apis/core/validation, Kubernetes 1.32): resource
// names and quantities, min ≤ defaultRequest ≤ default ≤ max, ratios. ResourceQuota scopes
// (spec.scopes, spec.scopeSelector) are refused: quota admission and the resourcequota
// controller would otherwise count pods a scoped quota excludes.

import type { LimitRange, LimitRangeItem, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isQualifiedName } from '../../../api/names.js';
import { Quantity } from '../../../api/quantity.js';
import { FieldPath } from './field-path.js';
import { entries, has, items } from './json-shapes.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { formatQuantity, isWholeNumber, parseQuantity } from './quantity.js';
import { STANDARD_RESOURCES, isHugePages, validateContainerResourceName } from './resources.js';

const LIMIT_TYPES = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);
const QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas',
  'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
]);
/** Resources counted in whole objects (helper.IsIntegerResourceName). */
const INTEGER_RESOURCES = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);
const isNative = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isIntegerResource = (name: string): boolean =>
  INTEGER_RESOURCES.has(name) || name.startsWith('count/') || (!isNative(name) && !name.startsWith('requests.'));

/** validateResourceName: qualified, and standard unless it has a domain. */
function validateResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => fieldError.invalid(path.toString(), name, msg));
  if (errs.length === 0 && !name.includes('/') && !STANDARD_RESOURCES.has(name) && !isHugePages(name)) {
    errs.push(fieldError.invalid(path.toString(), name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

function quantityOf(raw: unknown, path: FieldPath, errs: FieldError[]): Quantity | undefined {
  const q = parseQuantity(raw);
  if (typeof q !== 'string') return q;
  errs.push(fieldError.invalid(path.toString(), raw, q));
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// LimitRange

function validateLimitType(type: unknown, path: FieldPath): FieldError[] {
  const value = typeof type === 'string' ? type : '';
  const errs = isQualifiedName(value).map((msg) => fieldError.invalid(path.toString(), value, msg));
  if (errs.length === 0 && !value.includes('/') && !LIMIT_TYPES.has(value)) {
    errs.push(fieldError.invalid(path.toString(), value, 'must be a standard limit type or fully qualified'));
  }
  return errs;
}

type ItemField = 'max' | 'min' | 'default' | 'defaultRequest' | 'maxLimitRequestRatio';

function validateLimitItem(item: LimitRangeItem, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const lists = new Map<ItemField, Map<string, Quantity>>();
  const read = (field: ItemField) => {
    const values = new Map<string, Quantity>();
    for (const [name, raw] of entries(item[field])) {
      const p = path.child(field).key(name);
      errs.push(...(item.type === 'Pod' || item.type === 'Container' ? validateContainerResourceName(name, p) : validateResourceName(name, p)));
      const q = quantityOf(raw, p, errs);
      if (q) values.set(name, q);
    }
    lists.set(field, values);
  };
  read('max');
  read('min');
  if (item.type === 'Pod') {
    if (entries(item.default).length > 0) errs.push(fieldError.forbidden(path.child('default').toString(), "may not be specified when `type` is 'Pod'"));
    if (entries(item.defaultRequest).length > 0) errs.push(fieldError.forbidden(path.child('defaultRequest').toString(), "may not be specified when `type` is 'Pod'"));
  } else {
    read('default');
    read('defaultRequest');
  }
  if (item.type === 'PersistentVolumeClaim' && !lists.get('min')!.has('storage') && !lists.get('max')!.has('storage')) {
    errs.push(fieldError.required(path.child('limits').toString(), 'either minimum or maximum storage value is required, but neither was provided'));
  }
  read('maxLimitRequestRatio');
  const names = new Set([...lists.values()].flatMap((m) => [...m.keys()]));
  for (const name of names) {
    const get = (field: ItemField) => lists.get(field)?.get(name);
    const [min, max, def, defReq, ratio] = [get('min'), get('max'), get('default'), get('defaultRequest'), get('maxLimitRequestRatio')];
    const s = (q: Quantity) => formatQuantity(q);
    const at = (field: ItemField) => path.child(field).key(name).toString();
    if (min && max && min.cmp(max) > 0) errs.push(fieldError.invalid(at('min'), s(min), `min value ${s(min)} is greater than max value ${s(max)}`));
    if (defReq && min && min.cmp(defReq) > 0) errs.push(fieldError.invalid(at('defaultRequest'), s(defReq), `min value ${s(min)} is greater than default request value ${s(defReq)}`));
    if (defReq && max && defReq.cmp(max) > 0) errs.push(fieldError.invalid(at('defaultRequest'), s(defReq), `default request value ${s(defReq)} is greater than max value ${s(max)}`));
    if (defReq && def && defReq.cmp(def) > 0) errs.push(fieldError.invalid(at('defaultRequest'), s(defReq), `default request value ${s(defReq)} is greater than default limit value ${s(def)}`));
    if (def && min && min.cmp(def) > 0) errs.push(fieldError.invalid(at('default'), s(min), `min value ${s(min)} is greater than default value ${s(def)}`));
    if (def && max && def.cmp(max) > 0) errs.push(fieldError.invalid(at('default'), s(max), `default value ${s(def)} is greater than max value ${s(max)}`));
    if (ratio && ratio.cmp(Quantity.fromValue(1)) < 0) errs.push(fieldError.invalid(at('maxLimitRequestRatio'), s(ratio), `ratio ${s(ratio)} is less than 1`));
    if (ratio && min && max) {
      const limit = max.milliValue() / min.milliValue();
      if (ratio.milliValue() / 1000 > limit) {
        errs.push(fieldError.invalid(at('maxLimitRequestRatio'), s(ratio), `ratio ${s(ratio)} is greater than max/min = ${limit.toFixed(6)}`));
      }
    }
    // Resources that cannot be overcommitted (extended resources, huge pages) need equal defaults.
    const overcommit = isNative(name) && !isHugePages(name);
    if (!overcommit && def && defReq && def.cmp(defReq) !== 0) {
      errs.push(fieldError.invalid(at('defaultRequest'), s(defReq), `default value ${s(def)} must equal to defaultRequest value ${s(defReq)} in ${name}`));
    }
  }
  return errs;
}

export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs = validateObjectMeta(metaOf(lr), { namespaced: true, nameRule: dnsSubdomainName });
  const path = FieldPath.of('spec', 'limits');
  const seen = new Set<string>();
  items(has(lr.spec) ? lr.spec.limits : undefined).forEach((item, i) => {
    const p = path.index(i);
    errs.push(...validateLimitType(item.type, p.child('type')));
    if (seen.has(item.type)) errs.push(fieldError.duplicate(p.child('type').toString(), item.type));
    seen.add(item.type);
    errs.push(...validateLimitItem(item, p));
  });
  return errs;
}

export function validateLimitRangeUpdate(lr: LimitRange, old: LimitRange): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(lr), metaOf(old)), ...validateLimitRange(lr)];
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota

function validateQuotaList(list: Record<string, unknown> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of entries(list)) {
    const p = path.key(name);
    errs.push(...validateResourceName(name, p));
    if (!name.includes('/') && !QUOTA_RESOURCES.has(name) && !isHugePages(name) && !name.startsWith('requests.hugepages-')) {
      errs.push(fieldError.invalid(p.toString(), name, 'must be a standard resource for quota'));
    }
    const q = quantityOf(raw, p, errs);
    if (!q) continue;
    if (q.sign() < 0) errs.push(fieldError.invalid(p.toString(), formatQuantity(q), 'must be greater than or equal to 0'));
    if (isIntegerResource(name) && !isWholeNumber(q)) errs.push(fieldError.invalid(p.toString(), formatQuantity(q), 'must be an integer'));
  }
  return errs;
}

function validateQuotaSpec(rq: ResourceQuota): FieldError[] {
  const spec = has(rq.spec) ? rq.spec : {};
  const errs = validateQuotaList(spec.hard, FieldPath.of('spec', 'hard'));
  if (items(spec.scopes).length > 0) errs.push(fieldError.forbidden('spec.scopes', 'quota scopes are not supported by Skiff'));
  if (has(spec.scopeSelector)) errs.push(fieldError.forbidden('spec.scopeSelector', 'quota scopes are not supported by Skiff'));
  return errs;
}

function validateQuotaStatus(rq: ResourceQuota): FieldError[] {
  const status = has(rq.status) ? rq.status : {};
  return [...validateQuotaList(status.hard, FieldPath.of('status', 'hard')), ...validateQuotaList(status.used, FieldPath.of('status', 'used'))];
}

export function validateResourceQuota(rq: ResourceQuota): FieldError[] {
  const errs = validateObjectMeta(metaOf(rq), { namespaced: true, nameRule: dnsSubdomainName });
  return [...errs, ...validateQuotaSpec(rq), ...validateQuotaStatus(rq)];
}

export function validateResourceQuotaUpdate(rq: ResourceQuota, old: ResourceQuota): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(rq), metaOf(old)), ...validateQuotaSpec(rq)];
}

export function validateResourceQuotaStatusUpdate(rq: ResourceQuota, old: ResourceQuota): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(rq), metaOf(old)), ...validateQuotaStatus(rq)];
}
