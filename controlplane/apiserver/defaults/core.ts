// Defaults for core/v1 kinds (core/v1 defaults.go and the namespace and secret conversions).

import { parseIP } from '../validation/network.js';
import { defaultPodOnly, defaultPodSpec } from './podspec.js';
import { canonicalizeResourceList, child, isObject, objectsIn, setDefault } from './values.js';

export function defaultPod(pod: Record<string, unknown>): void {
  const spec = child(pod, 'spec');
  defaultPodSpec(spec);
  defaultPodOnly(spec);
}

/** NodePort and LoadBalancer services, and ClusterIP services with external IPs, take outside traffic. */
function externallyAccessible(spec: Record<string, unknown>): boolean {
  const type = spec['type'];
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && Array.isArray(spec['externalIPs']) && spec['externalIPs'].length > 0);
}

/**
 * SetDefaults_Service, plus what the service REST storage fills in before allocating addresses:
 * `clusterIPs` mirrors `clusterIP`, and a single-stack IPv4 family unless the address says otherwise.
 */
export function defaultService(svc: Record<string, unknown>): void {
  const spec = child(svc, 'spec');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'None') delete spec['sessionAffinityConfig'];
  if (spec['sessionAffinity'] === 'ClientIP') {
    const config = spec['sessionAffinityConfig'];
    const timeout = isObject(config) && isObject(config['clientIP']) ? config['clientIP']['timeoutSeconds'] : undefined;
    if (timeout === undefined || timeout === null) spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: 10800 } };
  }
  setDefault(spec, 'type', 'ClusterIP');
  for (const port of objectsIn(spec['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    // An unset (or zero) target port means the service port itself.
    if (port['targetPort'] === undefined || port['targetPort'] === null || port['targetPort'] === 0 || port['targetPort'] === '') {
      port['targetPort'] = port['port'];
    }
  }
  if (externallyAccessible(spec)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(String(spec['type']))) setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (spec['type'] === 'LoadBalancer' && typeof spec['allocateLoadBalancerNodePorts'] !== 'boolean') spec['allocateLoadBalancerNodePorts'] = true;
  if (spec['type'] === 'ExternalName') return;

  const clusterIP = typeof spec['clusterIP'] === 'string' ? spec['clusterIP'] : '';
  const clusterIPs = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : [];
  if (clusterIP && clusterIPs.length === 0) spec['clusterIPs'] = [clusterIP];
  const headlessWithoutSelector = clusterIP === 'None' && !(isObject(spec['selector']) && Object.keys(spec['selector']).length > 0);
  // A headless service without a selector may list endpoints of any family.
  setDefault(spec, 'ipFamilyPolicy', headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack');
  if (!Array.isArray(spec['ipFamilies']) || spec['ipFamilies'].length === 0) {
    const family = parseIP(clusterIP)?.family === 6 ? 'IPv6' : 'IPv4';
    spec['ipFamilies'] = [family];
  }
}

export function defaultNamespace(ns: Record<string, unknown>): void {
  const meta = child(ns, 'metadata');
  // Every namespace carries its own name as a label, so namespace selectors can pick it by name.
  if (typeof meta['name'] === 'string' && meta['name']) child(meta, 'labels')['kubernetes.io/metadata.name'] = meta['name'];
  // The namespace controller must empty a namespace before it goes (namespace PrepareForCreate).
  const spec = child(ns, 'spec');
  const finalizers = Array.isArray(spec['finalizers']) ? spec['finalizers'] : [];
  if (!finalizers.includes('kubernetes')) spec['finalizers'] = [...finalizers, 'kubernetes'];
}

/**
 * Secret type Opaque by default; `stringData` is a write-only convenience merged into `data`
 * (base64) as Kubernetes' conversion does, so it is never stored or returned.
 */
export function defaultSecret(secret: Record<string, unknown>): void {
  setDefault(secret, 'type', 'Opaque');
  const stringData = secret['stringData'];
  if (isObject(stringData)) {
    const data = child(secret, 'data');
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete secret['stringData'];
}

export function defaultEndpoints(ep: Record<string, unknown>): void {
  for (const subset of objectsIn(ep['subsets'])) for (const port of objectsIn(subset['ports'])) setDefault(port, 'protocol', 'TCP');
}

/** Nodes: `podCIDR` and `podCIDRs[0]` are one value (core/v1 conversion); capacities are canonical. */
export function defaultNode(node: Record<string, unknown>): void {
  const spec = isObject(node['spec']) ? node['spec'] : undefined;
  if (spec) {
    const cidr = typeof spec['podCIDR'] === 'string' ? spec['podCIDR'] : '';
    const cidrs = Array.isArray(spec['podCIDRs']) ? spec['podCIDRs'] : [];
    if (cidr && cidrs.length === 0) spec['podCIDRs'] = [cidr];
    else if (cidrs.length > 0 && typeof cidrs[0] === 'string') spec['podCIDR'] = cidrs[0];
  }
  const status = isObject(node['status']) ? node['status'] : undefined;
  if (status) {
    canonicalizeResourceList(status['capacity']);
    canonicalizeResourceList(status['allocatable']);
    // Allocatable defaults to the whole capacity.
    if (!isObject(status['allocatable']) && isObject(status['capacity'])) status['allocatable'] = { ...status['capacity'] };
  }
}

/**
 * SetDefaults_LimitRangeItem for Container items: a missing default limit is the max, a missing
 * default request the default limit, else the min. So a container that gets only a limit from
 * the LimitRange gets the same request, as Kubernetes does.
 */
export function defaultLimitRange(lr: Record<string, unknown>): void {
  const spec = lr['spec'];
  if (!isObject(spec)) return;
  for (const item of objectsIn(spec['limits'])) {
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) canonicalizeResourceList(item[field]);
    if (item['type'] !== 'Container') continue;
    const max = isObject(item['max']) ? item['max'] : {};
    const min = isObject(item['min']) ? item['min'] : {};
    const limits = child(item, 'default');
    for (const [name, value] of Object.entries(max)) if (!(name in limits)) limits[name] = value;
    const requests = child(item, 'defaultRequest');
    for (const [name, value] of Object.entries(limits)) if (!(name in requests)) requests[name] = value;
    for (const [name, value] of Object.entries(min)) if (!(name in requests)) requests[name] = value;
    for (const field of ['default', 'defaultRequest']) if (Object.keys(item[field] as object).length === 0) delete item[field];
  }
}

/** Resource lists in canonical form (SetDefaults_ResourceList): `0.5` is stored as `500m`. */
export function defaultResourceQuota(rq: Record<string, unknown>): void {
  for (const part of ['spec', 'status']) {
    const value = rq[part];
    if (!isObject(value)) continue;
    canonicalizeResourceList(value['hard']);
    canonicalizeResourceList(value['used']);
  }
}
