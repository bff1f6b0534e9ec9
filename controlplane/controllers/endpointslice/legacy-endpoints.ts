// The core/v1 Endpoints object of a Service (the legacy endpoints controller): ready pods in
// `addresses`, the others in `notReadyAddresses`, packed into subsets of pods serving the same
// ports. Older clients still read it; it is marked so that the EndpointSlice mirroring
// controller leaves it alone.

import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isPodReady } from '../pods/pod-state.js';
import { HEADLESS_LABEL, ipv4Addresses, isHeadless, podPorts, portsKey, publishedHostname, shouldPodBeInEndpoints } from './endpoints-of-pods.js';

export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** An Endpoints object holds at most this many addresses (the rest is in the EndpointSlices). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

export function endpointsLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...service.metadata?.labels, [SKIP_MIRROR_LABEL]: 'true' };
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

function byIp(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

export interface EndpointsContent {
  subsets: EndpointSubset[];
  truncated: boolean;
}

/** The subsets of a Service's Endpoints from its pods. */
export function endpointsSubsets(service: Service, pods: readonly Pod[]): EndpointsContent {
  const publishAll = service.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishAll)) continue;
    const ip = ipv4Addresses(pod)[0];
    if (!ip) continue;
    const address: { -readonly [K in keyof EndpointAddress]: EndpointAddress[K] } = {
      ip,
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    const hostname = publishedHostname(pod, service);
    if (hostname) address.hostname = hostname;
    const resolved = podPorts(service, pod);
    // A Service without ports (headless) still lists its pods; a pod serving none of the
    // Service's ports is not listed.
    if ((service.spec?.ports ?? []).length > 0 && resolved.length === 0) continue;
    const key = portsKey(resolved);
    let group = groups.get(key);
    if (!group) {
      const ports = resolved.map((p) => {
        const port: EndpointPort = { name: p.name, port: p.port, protocol: p.protocol };
        return p.appProtocol ? { ...port, appProtocol: p.appProtocol } : port;
      });
      groups.set(key, (group = { ports, ready: [], notReady: [] }));
    }
    if (publishAll || isPodReady(pod)) group.ready.push(address);
    else group.notReady.push(address);
  }
  let budget = MAX_ENDPOINTS_ADDRESSES;
  let truncated = false;
  const subsets: EndpointSubset[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    // Past capacity, ready addresses are kept before not-ready ones.
    const ready = g.ready.sort(byIp).slice(0, budget);
    budget -= ready.length;
    const notReady = g.notReady.sort(byIp).slice(0, budget);
    budget -= notReady.length;
    if (ready.length < g.ready.length || notReady.length < g.notReady.length) truncated = true;
    if (ready.length + notReady.length === 0) continue;
    const subset: { -readonly [K in keyof EndpointSubset]: EndpointSubset[K] } = {};
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    if (g.ports.length > 0) subset.ports = [...g.ports].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
    subsets.push(subset);
  }
  return { subsets, truncated };
}
