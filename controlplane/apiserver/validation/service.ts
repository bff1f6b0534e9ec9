// Services (core validation ValidateService / ValidateServiceUpdate). IP and port allocation is
// the API server's job; this checks what users write and that allocated addresses stay put.

import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../../api/names.js';
import { PORT_PROTOCOLS } from './containers.js';
import { FieldPath } from './field-path.js';
import { isValidPortNum } from './formats.js';
import { has, items, text } from './json-shapes.js';
import { validateLabels } from './label-selector.js';
import { isValidCIDR, isValidIP, parseIP, validateNonSpecialIP } from './network.js';
import { dns1035LabelName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { validatePortNumOrName } from './probes.js';

const SPEC = FieldPath.of('spec');
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

function specOf(svc: Service): ServiceSpec {
  return has(svc.spec) ? svc.spec : {};
}

export function isHeadless(spec: ServiceSpec): boolean {
  const ips = items(spec.clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
}

/** NodePort and LoadBalancer services, and ClusterIP services with external IPs, take outside traffic. */
export function externallyAccessible(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && items(spec.externalIPs).length > 0);
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = text(sp.name);
  if (requireName && !name) errs.push(fieldError.required(path.child('name').toString()));
  else if (name) {
    errs.push(...isDNS1123Label(name).map((msg) => fieldError.invalid(path.child('name').toString(), name, msg)));
    if (names.has(name)) errs.push(fieldError.duplicate(path.child('name').toString(), name));
    else names.add(name);
  }
  errs.push(...isValidPortNum(sp.port).map((msg) => fieldError.invalid(path.child('port').toString(), sp.port, msg)));
  if (!text(sp.protocol)) errs.push(fieldError.required(path.child('protocol').toString()));
  else if (!PORT_PROTOCOLS.includes(text(sp.protocol))) errs.push(fieldError.notSupported(path.child('protocol').toString(), sp.protocol, PORT_PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort, path.child('targetPort')));
  // Whether a node port is inside the configured range is the allocator's question; here only its syntax.
  if (sp.nodePort) errs.push(...isValidPortNum(sp.nodePort).map((msg) => fieldError.invalid(path.child('nodePort').toString(), sp.nodePort, msg)));
  if (sp.appProtocol !== undefined && sp.appProtocol !== null) {
    errs.push(...isQualifiedName(text(sp.appProtocol)).map((msg) => fieldError.invalid(path.child('appProtocol').toString(), sp.appProtocol, msg)));
  }
  return errs;
}

/** clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy agree (ValidateServiceClusterIPsRelatedFields). */
function validateClusterIPFields(spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = SPEC.child('clusterIPs');
  const clusterIP = text(spec.clusterIP);
  const clusterIPs = items(spec.clusterIPs);
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(fieldError.required(ipsPath.toString()));
    else if (clusterIPs[0] !== clusterIP) errs.push(fieldError.invalid(ipsPath.toString(), clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length > 0) {
    errs.push(fieldError.invalid(ipsPath.toString(), clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  items(spec.ipFamilies).forEach((family, i) => {
    const p = SPEC.child('ipFamilies').index(i).toString();
    if (family !== 'IPv4' && family !== 'IPv6') errs.push(fieldError.notSupported(p, family, ['IPv4', 'IPv6']));
    if (seen.has(family)) errs.push(fieldError.duplicate(p, family));
    seen.add(family);
  });
  const policy = spec.ipFamilyPolicy;
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (policy !== undefined && policy !== null && !policies.includes(policy)) {
    errs.push(fieldError.notSupported(SPEC.child('ipFamilyPolicy').toString(), policy, policies));
  }
  let invalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        invalidIPs = true;
        errs.push(fieldError.invalid(ipsPath.toString(), clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = isValidIP(ipsPath.index(i), text(ip));
    if (ipErrs.length > 0) invalidIPs = true;
    errs.push(...ipErrs);
  });
  if (clusterIPs.length > 2) errs.push(fieldError.invalid(ipsPath.toString(), clusterIPs, 'may only hold up to 2 values'));
  if (invalidIPs) return errs;
  if (clusterIPs.length > 1 && parseIP(text(clusterIPs[0]))?.family === parseIP(text(clusterIPs[1]))?.family) {
    errs.push(fieldError.invalid(ipsPath.toString(), clusterIPs, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec)) {
    const families = items(spec.ipFamilies);
    clusterIPs.forEach((ip, i) => {
      const family = families[i];
      const actual = parseIP(text(ip))?.family;
      if (family === 'IPv4' && actual === 6) {
        errs.push(fieldError.invalid(ipsPath.index(i).toString(), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      }
      if (family === 'IPv6' && actual !== 6) {
        errs.push(fieldError.invalid(ipsPath.index(i).toString(), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  return errs;
}

function validateTrafficPolicies(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const etp = text(spec.externalTrafficPolicy);
  if (!externallyAccessible(spec)) {
    if (etp) errs.push(fieldError.invalid(SPEC.child('externalTrafficPolicy').toString(), etp, 'may only be set for externally-accessible services'));
  } else if (!etp) {
    errs.push(fieldError.required(SPEC.child('externalTrafficPolicy').toString()));
  } else if (etp !== 'Cluster' && etp !== 'Local') {
    errs.push(fieldError.notSupported(SPEC.child('externalTrafficPolicy').toString(), etp, ['Cluster', 'Local']));
  }
  const needsHealthCheck = spec.type === 'LoadBalancer' && etp === 'Local';
  const hcnp = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck && hcnp !== 0) {
    errs.push(fieldError.invalid(SPEC.child('healthCheckNodePort').toString(), hcnp, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (needsHealthCheck) {
    if (hcnp === 0) errs.push(fieldError.required(SPEC.child('healthCheckNodePort').toString()));
    else errs.push(...isValidPortNum(hcnp).map((msg) => fieldError.invalid(SPEC.child('healthCheckNodePort').toString(), hcnp, msg)));
  }
  const itp = spec.internalTrafficPolicy;
  if ((itp === undefined || itp === null) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(text(spec.type))) {
    errs.push(fieldError.required(SPEC.child('internalTrafficPolicy').toString()));
  }
  if (itp !== undefined && itp !== null && itp !== 'Cluster' && itp !== 'Local') {
    errs.push(fieldError.notSupported(SPEC.child('internalTrafficPolicy').toString(), itp, ['Cluster', 'Local']));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(fieldError.notSupported(SPEC.child('trafficDistribution').toString(), spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  const spec = specOf(svc);
  const errs = validateObjectMeta(metaOf(svc), { namespaced: true, nameRule: dns1035LabelName, kubeFinalizers: true });
  const ports = items(spec.ports);
  const type = text(spec.type);
  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(fieldError.required(SPEC.child('ports').toString()));
  const clusterIPs = items(spec.clusterIPs);
  if ((type === 'LoadBalancer' || type === 'NodePort') && isHeadless(spec)) {
    errs.push(fieldError.invalid(SPEC.child('clusterIPs').index(0).toString(), clusterIPs[0], `may not be set to 'None' for ${type} services`));
  }
  if (type === 'ExternalName') {
    if (clusterIPs.length > 0) errs.push(fieldError.forbidden(SPEC.child('clusterIPs').toString(), 'may not be set for ExternalName services'));
    if (items(spec.ipFamilies).length > 0) errs.push(fieldError.forbidden(SPEC.child('ipFamilies').toString(), 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) {
      errs.push(fieldError.forbidden(SPEC.child('ipFamilyPolicy').toString(), 'may not be set for ExternalName services'));
    }
    // A CNAME may end with a dot to mark it fully qualified.
    const cname = text(spec.externalName).replace(/\.$/, '');
    if (cname) errs.push(...isDNS1123Subdomain(cname).map((msg) => fieldError.invalid(SPEC.child('externalName').toString(), cname, msg)));
    else errs.push(fieldError.required(SPEC.child('externalName').toString()));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, SPEC.child('ports').index(i))));
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(spec.selector, SPEC.child('selector')));

  const affinity = text(spec.sessionAffinity);
  if (!affinity) errs.push(fieldError.required(SPEC.child('sessionAffinity').toString()));
  else if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(fieldError.notSupported(SPEC.child('sessionAffinity').toString(), affinity, ['ClientIP', 'None']));
  const configPath = SPEC.child('sessionAffinityConfig');
  if (affinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (!has(spec.sessionAffinityConfig)) errs.push(fieldError.required(configPath.toString(), 'when session affinity type is ClientIP'));
    else if (!has(spec.sessionAffinityConfig.clientIP)) errs.push(fieldError.required(configPath.child('clientIP').toString(), 'when session affinity type is ClientIP'));
    else if (timeout === undefined || timeout === null) {
      errs.push(fieldError.required(configPath.child('clientIP', 'timeoutSeconds').toString(), 'when session affinity type is ClientIP'));
    } else if (timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      errs.push(fieldError.invalid(configPath.child('clientIP', 'timeoutSeconds').toString(), timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (affinity === 'None' && has(spec.sessionAffinityConfig)) {
    errs.push(fieldError.forbidden(configPath.toString(), 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPFields(spec));
  items(spec.externalIPs).forEach((ip, i) => {
    const p = SPEC.child('externalIPs').index(i);
    const ipErrs = isValidIP(p, text(ip));
    errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(p, text(ip))));
  });
  if (!type) errs.push(fieldError.required(SPEC.child('type').toString()));
  else if (!SERVICE_TYPES.includes(type)) errs.push(fieldError.notSupported(SPEC.child('type').toString(), type, SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(fieldError.forbidden(SPEC.child('ports').index(i).child('nodePort').toString(), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${text(p.protocol)}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(fieldError.duplicate(SPEC.child('ports').index(i).child('nodePort').toString(), p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${text(p.protocol)}/${p.port}`;
    if (portKeys.has(key)) errs.push(fieldError.duplicate(SPEC.child('ports').index(i).toString(), { port: p.port, protocol: p.protocol }));
    portKeys.add(key);
  });
  const ranges = items(spec.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    const p = SPEC.child('LoadBalancerSourceRanges');
    if (type !== 'LoadBalancer') errs.push(fieldError.forbidden(p.toString(), "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(p.index(i), text(r).trim())));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(fieldError.forbidden(SPEC.child('allocateLoadBalancerNodePorts').toString(), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    // Kubernetes reports this one without the `spec.` prefix.
    errs.push(fieldError.required('allocateLoadBalancerNodePorts'));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (type === 'LoadBalancer') {
      errs.push(...isQualifiedName(text(spec.loadBalancerClass)).map((msg) => fieldError.invalid(SPEC.child('loadBalancerClass').toString(), spec.loadBalancerClass, msg)));
    } else {
      errs.push(fieldError.forbidden(SPEC.child('loadBalancerClass').toString(), "may only be used when `type` is 'LoadBalancer'"));
    }
  }
  errs.push(...validateTrafficPolicies(spec));
  return errs;
}

/** Allocated cluster IPs never change; a secondary one may be added or released (validateUpgradeDowngradeClusterIPs). */
function validateClusterIPsUpdate(spec: ServiceSpec, oldSpec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  if (isHeadless(spec) && isHeadless(oldSpec)) return [];
  const now = items(spec.clusterIPs);
  const before = items(oldSpec.clusterIPs);
  const path = SPEC.child('clusterIPs');
  const errs: FieldError[] = [];
  if (now.length === before.length) {
    before.forEach((ip, i) => {
      if (ip !== now[i]) errs.push(fieldError.invalid(path.index(i).toString(), now, 'may not change once set'));
    });
  } else if (before.length > now.length) {
    if (now.length === 0) errs.push(fieldError.invalid(path.index(0).toString(), now, 'primary clusterIP can not be unset'));
    if (before.length > 0 && now.length > 0 && now[0] !== before[0]) errs.push(fieldError.invalid(path.index(0).toString(), now, 'may not change once set'));
    if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldError.invalid(SPEC.child('ipFamilyPolicy').toString(), spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (before.length > 0 && now[0] !== before[0]) {
    errs.push(fieldError.invalid(path.index(0).toString(), now, 'may not change once set'));
  }
  return errs;
}

function validateIPFamiliesUpdate(spec: ServiceSpec, oldSpec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  if (isHeadless(spec) !== isHeadless(oldSpec) || isHeadless(spec)) return [];
  const now = items(spec.ipFamilies);
  const before = items(oldSpec.ipFamilies);
  const path = SPEC.child('ipFamilies').index(0).toString();
  const errs: FieldError[] = [];
  if (now.length === before.length) {
    before.forEach((f, i) => {
      if (f !== now[i]) errs.push(fieldError.invalid(path, now, 'may not change once set'));
    });
  } else if (before.length > now.length) {
    if (items(spec.clusterIPs).length === 0) errs.push(fieldError.invalid(path, now, 'primary ipFamily can not be unset'));
    if (now.length > 0 && now[0] !== before[0]) errs.push(fieldError.invalid(path, items(spec.clusterIPs), 'may not change once set'));
    if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldError.invalid(SPEC.child('ipFamilyPolicy').toString(), spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (before.length > 0 && now.length > 0 && now[0] !== before[0]) {
    errs.push(fieldError.invalid(path, items(spec.clusterIPs), 'may not change once set'));
  }
  return errs;
}

export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  const errs = validateObjectMetaUpdate(metaOf(svc), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateClusterIPsUpdate(spec, oldSpec));
  errs.push(...validateIPFamiliesUpdate(spec, oldSpec));
  if (oldSpec.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && text(oldSpec.loadBalancerClass) !== text(spec.loadBalancerClass)) {
    errs.push(fieldError.invalid(SPEC.child('loadBalancerClass').toString(), spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  const needsHealthCheck = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && spec.healthCheckNodePort !== oldSpec.healthCheckNodePort) {
    errs.push(fieldError.forbidden(SPEC.child('healthCheckNodePort').toString(), 'field is immutable'));
  }
  return [...errs, ...validateService(svc)];
}

export function validateServiceStatusUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(svc), metaOf(old), { kubeFinalizers: true });
  const ingress = items(svc.status?.loadBalancer?.ingress);
  const ingressPath = FieldPath.of('status', 'loadBalancer', 'ingress');
  if (specOf(svc).type !== 'LoadBalancer' && ingress.length > 0) {
    errs.push(fieldError.forbidden(ingressPath.toString(), "may only be used when `spec.type` is 'LoadBalancer'"));
    return errs;
  }
  ingress.forEach((ing, i) => {
    const p = ingressPath.index(i);
    if (text(ing.ip)) errs.push(...isValidIP(p.child('ip'), text(ing.ip)));
    if (text(ing.hostname)) {
      errs.push(...isDNS1123Subdomain(text(ing.hostname)).map((msg) => fieldError.invalid(p.child('hostname').toString(), ing.hostname, msg)));
      if (parseIP(text(ing.hostname))) errs.push(fieldError.invalid(p.child('hostname').toString(), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
