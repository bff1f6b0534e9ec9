// On a Service update, addresses the API server allocated are kept when the request leaves them
// out (Kubernetes' service REST patchAllocatedValues and NormalizeClusterIPs): a manifest applied
// with `kubectl replace` carries no clusterIP or nodePort, and must not look like a change of them.
// Call before validateUpdate, with the stored object as `old`.

import { isObject, objectsIn } from './values.js';

function specOf(svc: Record<string, unknown>): Record<string, unknown> {
  return isObject(svc['spec']) ? svc['spec'] : {};
}

const needsClusterIP = (spec: Record<string, unknown>): boolean => spec['type'] !== 'ExternalName';
const needsNodePort = (spec: Record<string, unknown>): boolean =>
  spec['type'] === 'NodePort' || (spec['type'] === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
const needsHealthCheckNodePort = (spec: Record<string, unknown>): boolean =>
  spec['type'] === 'LoadBalancer' && spec['externalTrafficPolicy'] === 'Local';

function nodePortsUsed(spec: Record<string, unknown>): Set<unknown> {
  return new Set(objectsIn(spec['ports']).map((p) => p['nodePort']).filter((n) => typeof n === 'number' && n !== 0));
}

export function carryOverServiceAllocations(svc: Record<string, unknown>, old: Record<string, unknown>): void {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (!isObject(svc['spec'])) return;
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!spec['clusterIP'] && oldSpec['clusterIP']) spec['clusterIP'] = oldSpec['clusterIP'];
    const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : [];
    if (ips.length === 0 && Array.isArray(oldSpec['clusterIPs']) && oldSpec['clusterIPs'].length > 0) spec['clusterIPs'] = [...oldSpec['clusterIPs']];
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const oldUsed = nodePortsUsed(oldSpec);
    const used = new Set([...nodePortsUsed(spec)].filter((n) => oldUsed.has(n)));
    // Ports are matched by name; a node port already taken by another port is not reused.
    const byName = new Map(objectsIn(oldSpec['ports']).map((p) => [p['name'] ?? '', p['nodePort']]));
    for (const port of objectsIn(spec['ports'])) {
      if (port['nodePort']) continue;
      const previous = byName.get(port['name'] ?? '');
      if (typeof previous === 'number' && previous !== 0 && !used.has(previous)) port['nodePort'] = previous;
    }
  }
  if (needsHealthCheckNodePort(oldSpec) && needsHealthCheckNodePort(spec) && !spec['healthCheckNodePort']) {
    spec['healthCheckNodePort'] = oldSpec['healthCheckNodePort'];
  }
  // Clearing clusterIP without touching clusterIPs (e.g. turning into ExternalName) clears both.
  if (oldSpec['clusterIP'] && !spec['clusterIP'] && JSON.stringify(spec['clusterIPs']) === JSON.stringify(oldSpec['clusterIPs'])) delete spec['clusterIPs'];
}
