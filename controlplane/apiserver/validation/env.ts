// Container environment: `env` entries with a value or exactly one `valueFrom` source, and
// `envFrom` entries naming one ConfigMap or Secret (core validation ValidateEnv / ValidateEnvFrom).

import type { EnvFromSource, EnvVar, ObjectFieldSelector, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import type { FieldPath } from './field-path.js';
import { isConfigMapKey, isEnvVarName } from './formats.js';
import { has, items, text } from './json-shapes.js';
import { validateLabelName } from './label-selector.js';
import { dnsSubdomainName } from './objectmeta.js';

/** Pod fields the downward API can put in an environment variable. */
const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
/** Pod fields the downward API can write to a volume file. */
export const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
/** Every field label core/v1 pods convert (pods.ConvertDownwardAPIFieldLabel); others are refused outright. */
const CONVERTIBLE_FIELD_PATHS = new Set([
  ...ENV_FIELD_PATHS, 'metadata.annotations', 'metadata.labels', 'spec.restartPolicy', 'spec.schedulerName', 'status.phase', 'spec.host',
]);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/** `metadata.labels['app']` → ['metadata.labels', 'app']. */
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const open = fieldPath.indexOf("['");
  if (open <= 0) return undefined;
  return [fieldPath.slice(0, open), fieldPath.slice(open + 2, -2)];
}

export function validateObjectFieldSelector(sel: ObjectFieldSelector, supported: readonly string[], path: FieldPath): FieldError[] {
  if (!text(sel.apiVersion)) return [fieldError.required(path.child('apiVersion').toString())];
  const fieldPath = text(sel.fieldPath);
  if (!fieldPath) return [fieldError.required(path.child('fieldPath').toString())];
  const subscripted = splitSubscript(fieldPath);
  const base = subscripted?.[0] ?? fieldPath;
  if (sel.apiVersion !== 'v1') {
    return [fieldError.invalid(path.child('fieldPath').toString(), fieldPath, `error converting fieldPath: unsupported pod version: ${sel.apiVersion}`)];
  }
  if (!CONVERTIBLE_FIELD_PATHS.has(base)) {
    return [fieldError.invalid(path.child('fieldPath').toString(), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)];
  }
  if (subscripted) {
    const [field, key] = subscripted;
    if (field === 'metadata.annotations') return validateLabelName(key.toLowerCase(), path);
    if (field === 'metadata.labels') return validateLabelName(key, path);
    return [fieldError.invalid(path.toString(), field, 'does not support subscript')];
  }
  const internal = fieldPath === 'spec.host' ? 'spec.nodeName' : fieldPath;
  if (!supported.includes(internal)) return [fieldError.notSupported(path.child('fieldPath').toString(), internal, [...supported].sort())];
  return [];
}

export function validateResourceFieldSelector(sel: ResourceFieldSelector, forVolume: boolean, path: FieldPath): FieldError[] {
  if (forVolume && !text(sel.containerName)) return [fieldError.required(path.child('containerName').toString())];
  const resource = text(sel.resource);
  if (!resource) return [fieldError.required(path.child('resource').toString())];
  if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    return [fieldError.notSupported(path.child('resource').toString(), resource, RESOURCE_FIELD_PATHS)];
  }
  return [];
}

function validateKeySelector(sel: { name?: string; key: string }, path: FieldPath): FieldError[] {
  const name = text(sel.name);
  const errs = dnsSubdomainName(name, false).map((msg) => fieldError.invalid(path.child('name').toString(), name, msg));
  const key = text(sel.key);
  if (!key) errs.push(fieldError.required(path.child('key').toString()));
  else errs.push(...isConfigMapKey(key).map((msg) => fieldError.invalid(path.child('key').toString(), key, msg)));
  return errs;
}

function validateValueFrom(ev: EnvVar, path: FieldPath): FieldError[] {
  const from = ev.valueFrom;
  if (!has(from)) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (has(from.fieldRef)) {
    sources++;
    errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_FIELD_PATHS, path.child('fieldRef')));
  }
  if (has(from.resourceFieldRef)) {
    sources++;
    errs.push(...validateResourceFieldSelector(from.resourceFieldRef, false, path.child('resourceFieldRef')));
  }
  if (has(from.configMapKeyRef)) {
    sources++;
    errs.push(...validateKeySelector(from.configMapKeyRef, path.child('configMapKeyRef')));
  }
  if (has(from.secretKeyRef)) {
    sources++;
    errs.push(...validateKeySelector(from.secretKeyRef, path.child('secretKeyRef')));
  }
  if (sources === 0) {
    errs.push(fieldError.invalid(path.toString(), '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (text(ev.value)) {
    errs.push(fieldError.invalid(path.toString(), '', 'may not be specified when `value` is not empty'));
  } else if (sources > 1) {
    errs.push(fieldError.invalid(path.toString(), '', 'may not have more than one field specified at a time'));
  }
  return errs;
}

export function validateEnv(vars: EnvVar[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  items(vars).forEach((ev, i) => {
    const p = path.index(i);
    const name = text(ev.name);
    if (!name) errs.push(fieldError.required(p.child('name').toString()));
    else errs.push(...isEnvVarName(name).map((msg) => fieldError.invalid(p.child('name').toString(), name, msg)));
    errs.push(...validateValueFrom(ev, p.child('valueFrom')));
  });
  return errs;
}

function validateEnvSourceName(ref: { name?: string }, path: FieldPath): FieldError[] {
  const name = text(ref.name);
  if (!name) return [fieldError.required(path.child('name').toString())];
  return dnsSubdomainName(name, true).map((msg) => fieldError.invalid(path.child('name').toString(), name, msg));
}

export function validateEnvFrom(sources: EnvFromSource[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  items(sources).forEach((src, i) => {
    const p = path.index(i);
    const prefix = text(src.prefix);
    if (prefix) errs.push(...isEnvVarName(prefix).map((msg) => fieldError.invalid(p.child('prefix').toString(), prefix, msg)));
    let count = 0;
    if (has(src.configMapRef)) {
      count++;
      errs.push(...validateEnvSourceName(src.configMapRef, p.child('configMapRef')));
    }
    if (has(src.secretRef)) {
      count++;
      errs.push(...validateEnvSourceName(src.secretRef, p.child('secretRef')));
    }
    if (count === 0) errs.push(fieldError.invalid(path.toString(), '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (count > 1) errs.push(fieldError.invalid(path.toString(), '', 'may not have more than one field specified at a time'));
  });
  return errs;
}
