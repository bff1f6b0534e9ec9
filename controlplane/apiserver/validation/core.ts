// The smaller core/v1 kinds: Namespace, Node, ConfigMap, Secret, ServiceAccount, Endpoints
// (core validation ValidateNamespace, ValidateNode, ValidateConfigMap, ValidateSecret, ...).

import type { ConfigMap, EndpointAddress, EndpointPort, Endpoints, Namespace, Node, Secret, ServiceAccount, Taint } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../../api/names.js';
import { PORT_PROTOCOLS } from './containers.js';
import { FieldPath } from './field-path.js';
import { isConfigMapKey, isValidPortNum } from './formats.js';
import { entries, has, items, jsonEqual, text } from './json-shapes.js';
import { validateLabelName } from './label-selector.js';
import { isValidCIDR, isValidIP, parseCIDR, validateNonSpecialIP } from './network.js';
import { dnsLabelName, dnsSubdomainName, metaOf, validateKubeFinalizerName, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { parseQuantity } from './quantity.js';
import { validateTaintEffect } from './scheduling.js';

const META = FieldPath.of('metadata');
/** ConfigMaps and Secrets are capped at 1 MiB so they fit in one etcd value. */
const MAX_SECRET_SIZE = 1024 * 1024;
const namespacedMeta = { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true } as const;

// ---- Namespace ----------------------------------------------------------------------------------

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(metaOf(ns), { namespaced: false, nameRule: dnsLabelName, kubeFinalizers: true });
  const path = FieldPath.of('spec', 'finalizers');
  for (const f of items(ns.spec?.finalizers)) {
    errs.push(...isQualifiedName(text(f)).map((msg) => fieldError.invalid(path.toString(), f, msg)));
    errs.push(...validateKubeFinalizerName(text(f), path));
  }
  return errs;
}

export function validateNamespaceStatusUpdate(ns: Namespace, old: Namespace): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(ns), metaOf(old), { kubeFinalizers: true });
  const phase = text(ns.status?.phase);
  const path = FieldPath.of('status', 'Phase').toString();
  if (!metaOf(ns).deletionTimestamp) {
    if (phase !== 'Active') errs.push(fieldError.invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
  } else if (phase !== 'Terminating') {
    errs.push(fieldError.invalid(path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

// ---- Node ---------------------------------------------------------------------------------------

/** Taints must be unique by key and effect. Kubernetes reports them under `metadata.taints` (sic). */
function validateTaints(taints: Taint[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  items(taints).forEach((t, i) => {
    const p = META.child('taints').index(i);
    errs.push(...validateLabelName(text(t.key), p.child('key')));
    const valueMsgs = isValidLabelValue(text(t.value));
    if (valueMsgs.length > 0) errs.push(fieldError.invalid(p.child('value').toString(), text(t.value), valueMsgs.join(';')));
    errs.push(...validateTaintEffect(text(t.effect), false, p.child('effect')));
    const key = `${text(t.effect)}\u0000${text(t.key)}`;
    if (seen.has(key)) {
      errs.push({ type: 'FieldValueDuplicate', field: p.toString(), badValue: t, detail: 'taints must be unique by key and effect pair' });
      return;
    }
    seen.add(key);
  });
  return errs;
}

function validateNodeResources(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  for (const list of ['capacity', 'allocatable'] as const) {
    for (const [name, raw] of entries(node.status?.[list])) {
      const p = FieldPath.of('status', list, name).toString();
      const q = parseQuantity(raw);
      if (typeof q === 'string') errs.push(fieldError.invalid(p, raw, q));
      else if (q.sign() < 0) errs.push(fieldError.invalid(p, raw, 'must be greater than or equal to 0'));
    }
  }
  return errs;
}

function validatePodCIDRs(node: Node): FieldError[] {
  const cidrs = items(node.spec?.podCIDRs);
  const path = FieldPath.of('spec', 'podCIDRs');
  const errs = cidrs.flatMap((c, i) => isValidCIDR(path.index(i), text(c)));
  if (cidrs.length > 1 && errs.length === 0) {
    const families = cidrs.map((c) => parseCIDR(text(c))?.family);
    if (cidrs.length > 2 || families[0] === families[1]) errs.push(fieldError.invalid(path.toString(), cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(text(c))) errs.push(fieldError.duplicate(path.index(i).toString(), c));
      seen.add(text(c));
    });
  }
  return errs;
}

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(metaOf(node), { namespaced: false, nameRule: dnsSubdomainName, kubeFinalizers: true });
  errs.push(...validateTaints(node.spec?.taints));
  errs.push(...validateNodeResources(node));
  errs.push(...validatePodCIDRs(node));
  return errs;
}

/** Node updates (ValidateNodeUpdate, used for the main resource and for status). */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(node), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateNodeResources(node));
  const seen = new Set<string>();
  items(node.status?.addresses).forEach((a, i) => {
    const key = `${text(a.type)}\u0000${text(a.address)}`;
    if (seen.has(key)) errs.push(fieldError.duplicate(FieldPath.of('status', 'addresses').index(i).toString(), a));
    seen.add(key);
  });
  // The pod CIDR and provider ID may be set once, by whoever assigns them, and never changed.
  const oldCIDRs = items(old.spec?.podCIDRs);
  if (oldCIDRs.length > 0 && !jsonEqual(oldCIDRs, items(node.spec?.podCIDRs))) {
    errs.push(fieldError.forbidden(FieldPath.of('spec', 'podCIDRs').toString(), 'node updates may not change podCIDR except from "" to valid'));
  }
  const oldProvider = text(old.spec?.providerID);
  if (oldProvider && oldProvider !== text(node.spec?.providerID)) {
    errs.push(fieldError.forbidden(FieldPath.of('spec', 'providerID').toString(), 'node updates may not change providerID except from "" to valid'));
  }
  errs.push(...validateTaints(node.spec?.taints));
  if (text(node.spec?.externalID) !== text(old.spec?.externalID)) {
    errs.push(fieldError.forbidden(FieldPath.of('spec', 'externalID').toString(), 'may not be updated'));
  }
  errs.push(...validatePodCIDRs(node));
  return errs;
}

// ---- ConfigMap and Secret -----------------------------------------------------------------------

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(metaOf(cm), namespacedMeta);
  let size = 0;
  const binary = has(cm.binaryData) ? cm.binaryData : {};
  for (const [key, value] of entries(cm.data)) {
    const p = FieldPath.of('data').key(key).toString();
    errs.push(...isConfigMapKey(key).map((msg) => fieldError.invalid(p, key, msg)));
    if (key in binary) errs.push(fieldError.invalid(p, key, 'duplicate of key present in binaryData'));
    size += Buffer.byteLength(text(value));
  }
  for (const [key, value] of entries(binary)) {
    const p = FieldPath.of('binaryData').key(key).toString();
    errs.push(...isConfigMapKey(key).map((msg) => fieldError.invalid(p, key, msg)));
    size += Buffer.from(text(value), 'base64').length;
  }
  // Kubernetes reports the size of the whole object at the empty path.
  if (size > MAX_SECRET_SIZE) errs.push(fieldError.tooLong('', MAX_SECRET_SIZE));
  return errs;
}

function immutableDataErrors(obj: { immutable?: boolean }, old: { immutable?: boolean }, fields: [string, unknown, unknown][]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const [name, now, before] of fields) {
    if (!jsonEqual(now, before)) errs.push(fieldError.forbidden(name, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(cm), metaOf(old), { kubeFinalizers: true });
  errs.push(...immutableDataErrors(cm, old, [['data', cm.data, old.data], ['binaryData', cm.binaryData, old.binaryData]]));
  return [...errs, ...validateConfigMap(cm)];
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Secret values travel as base64 (Go's []byte); Kubernetes refuses other text while decoding. */
function base64Error(value: string): string | undefined {
  const clean = value.replace(/[\r\n]/g, '');
  if (STRICT_BASE64.test(clean)) return undefined;
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  return `illegal base64 data at input byte ${bad >= 0 ? bad : clean.length}`;
}

function requireKeys(secret: Secret, keys: string[]): FieldError[] {
  const data = has(secret.data) ? secret.data : {};
  return keys.filter((k) => !(k in data)).map((k) => fieldError.required(FieldPath.of('data').key(k).toString()));
}

function jsonDataError(secret: Secret, key: string): FieldError[] {
  const raw = secret.data?.[key];
  if (raw === undefined) return requireKeys(secret, [key]);
  try {
    JSON.parse(Buffer.from(text(raw), 'base64').toString('utf8'));
    return [];
  } catch (err) {
    return [fieldError.invalid(FieldPath.of('data').key(key).toString(), '<secret contents redacted>', (err as Error).message)];
  }
}

export function validateSecret(secret: Secret): FieldError[] {
  const errs = validateObjectMeta(metaOf(secret), namespacedMeta);
  let size = 0;
  for (const [key, value] of entries(secret.data)) {
    const p = FieldPath.of('data').key(key).toString();
    errs.push(...isConfigMapKey(key).map((msg) => fieldError.invalid(p, key, msg)));
    const bad = base64Error(text(value));
    if (bad) errs.push(fieldError.invalid(p, '<secret contents redacted>', bad));
    else size += Buffer.from(text(value), 'base64').length;
  }
  if (size > MAX_SECRET_SIZE) errs.push(fieldError.tooLong('data', MAX_SECRET_SIZE));
  const data = has(secret.data) ? secret.data : {};
  switch (text(secret.type)) {
    case 'kubernetes.io/service-account-token':
      if (!text(metaOf(secret).annotations?.['kubernetes.io/service-account.name'])) {
        errs.push(fieldError.required(META.child('annotations').key('kubernetes.io/service-account.name').toString()));
      }
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...jsonDataError(secret, '.dockercfg'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...jsonDataError(secret, '.dockerconfigjson'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) errs.push(...requireKeys(secret, ['username', 'password']));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!text(data['ssh-privatekey'])) errs.push(fieldError.required(FieldPath.of('data').key('ssh-privatekey').toString()));
      break;
    case 'kubernetes.io/tls':
      errs.push(...requireKeys(secret, ['tls.crt', 'tls.key']));
      break;
    default:
  }
  return errs;
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(secret), metaOf(old), { kubeFinalizers: true });
  if (text(secret.type) !== text(old.type)) errs.push(fieldError.immutable('type', text(secret.type)));
  errs.push(...immutableDataErrors(secret, old, [['data', secret.data, old.data]]));
  return [...errs, ...validateSecret(secret)];
}

// ---- ServiceAccount -----------------------------------------------------------------------------

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(metaOf(sa), namespacedMeta);
}

// ---- Endpoints ----------------------------------------------------------------------------------

function validateEndpointAddress(address: EndpointAddress, path: FieldPath): FieldError[] {
  const errs = isValidIP(path.child('ip'), text(address.ip));
  if (text(address.hostname)) {
    errs.push(...isDNS1123Label(text(address.hostname)).map((msg) => fieldError.invalid(path.child('hostname').toString(), address.hostname, msg)));
  }
  if (address.nodeName !== undefined && address.nodeName !== null) {
    errs.push(...isDNS1123Subdomain(text(address.nodeName)).map((msg) => fieldError.invalid(path.child('nodeName').toString(), address.nodeName, msg)));
  }
  return [...errs, ...validateNonSpecialIP(path.child('ip'), text(address.ip))];
}

function validateEndpointPort(port: EndpointPort, requireName: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = text(port.name);
  if (requireName && !name) errs.push(fieldError.required(path.child('name').toString()));
  else if (name) errs.push(...isDNS1123Label(name).map((msg) => fieldError.invalid(path.child('name').toString(), name, msg)));
  errs.push(...isValidPortNum(port.port).map((msg) => fieldError.invalid(path.child('port').toString(), port.port, msg)));
  if (!text(port.protocol)) errs.push(fieldError.required(path.child('protocol').toString()));
  else if (!PORT_PROTOCOLS.includes(text(port.protocol))) errs.push(fieldError.notSupported(path.child('protocol').toString(), port.protocol, PORT_PROTOCOLS));
  if (port.appProtocol !== undefined && port.appProtocol !== null) {
    errs.push(...isQualifiedName(text(port.appProtocol)).map((msg) => fieldError.invalid(path.child('appProtocol').toString(), port.appProtocol, msg)));
  }
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(metaOf(ep), namespacedMeta);
  items(ep.subsets).forEach((ss, i) => {
    const p = FieldPath.of('subsets').index(i);
    if (items(ss.addresses).length === 0 && items(ss.notReadyAddresses).length === 0) {
      errs.push(fieldError.required(p.toString(), 'must specify `addresses` or `notReadyAddresses`'));
    }
    items(ss.addresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child('addresses').index(j))));
    items(ss.notReadyAddresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child('notReadyAddresses').index(j))));
    const ports = items(ss.ports);
    ports.forEach((port, j) => errs.push(...validateEndpointPort(port, ports.length > 1, p.child('ports').index(j))));
  });
  return errs;
}
