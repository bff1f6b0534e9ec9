// Turning a Service's pods into EndpointSlices (discovery.k8s.io/v1): endpoints grouped by the
// ports they serve, at most maxEndpointsPerSlice (100) to a slice, changing as few slices as
// possible: endpoints stay in the slice they are in, new ones fill free room before new slices
// are made, emptied slices go. A Service without endpoints keeps one empty placeholder slice.

import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { HEADLESS_LABEL, endpointConditions, ipv4Addresses, isHeadless, podPorts, portsKey, publishedHostname, shouldPodBeInEndpoints } from './endpoints-of-pods.js';
import type { ResolvedPort } from './endpoints-of-pods.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;
const ZONE_LABEL = 'topology.kubernetes.io/zone';

type MutableSlice = { -readonly [K in keyof EndpointSlice]: EndpointSlice[K] };

export interface DesiredGroup {
  ports: EndpointPort[];
  /** Endpoints by target pod UID. */
  endpoints: Map<string, Endpoint>;
}

export interface DesiredEndpoints {
  groups: Map<string, DesiredGroup>;
  /** Pods left out because their node is not known (yet). */
  missingNodes: string[];
}

function toEndpointPorts(ports: readonly ResolvedPort[]): EndpointPort[] {
  return [...ports]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port))
    .map((p) => {
      const port: EndpointPort = { name: p.name, port: p.port, protocol: p.protocol };
      return p.appProtocol ? { ...port, appProtocol: p.appProtocol } : port;
    });
}

/** Every endpoint the Service should have, grouped by port set. */
export function desiredEndpoints(service: Service, pods: readonly Pod[], nodeByName: (name: string) => Node | undefined): DesiredEndpoints {
  const groups = new Map<string, DesiredGroup>();
  const missingNodes: string[] = [];
  const sorted = [...pods].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  for (const pod of sorted) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const addresses = ipv4Addresses(pod);
    if (addresses.length === 0) continue;
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? nodeByName(nodeName) : undefined;
    if (nodeName && !node) {
      // Kubernetes leaves such pods out until the node is known, and tries again.
      missingNodes.push(nodeName);
      continue;
    }
    const ports = podPorts(service, pod);
    const key = portsKey(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports: toEndpointPorts(ports), endpoints: new Map() }));
    const endpoint: { -readonly [K in keyof Endpoint]: Endpoint[K] } = {
      addresses,
      conditions: endpointConditions(pod, service),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    const hostname = publishedHostname(pod, service);
    if (hostname) endpoint.hostname = hostname;
    if (nodeName) endpoint.nodeName = nodeName;
    const zone = node?.metadata?.labels?.[ZONE_LABEL];
    if (zone) endpoint.zone = zone;
    group.endpoints.set(pod.metadata?.uid ?? addresses[0]!, endpoint);
  }
  return { groups, missingNodes };
}

/** The labels of a Service's slices: the Service's own plus the ones that tie them to it. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...service.metadata?.labels };
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = service.metadata?.name ?? '';
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

export function serviceOwnerRef(service: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: service.metadata?.name ?? '', uid: service.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function endpointKey(e: Endpoint): string {
  return e.targetRef?.uid ?? e.addresses[0] ?? '';
}

function byPodName(a: Endpoint, b: Endpoint): number {
  const na = a.targetRef?.name ?? '';
  const nb = b.targetRef?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

function sameContent(a: EndpointSlice, b: EndpointSlice): boolean {
  return (
    JSON.stringify([a.endpoints ?? [], a.ports ?? [], a.metadata?.labels ?? {}]) === JSON.stringify([b.endpoints ?? [], b.ports ?? [], b.metadata?.labels ?? {}]) &&
    a.addressType === b.addressType
  );
}

function newSlice(service: Service, ports: EndpointPort[], endpoints: Endpoint[]): MutableSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${service.metadata?.name}-`,
      namespace: service.metadata?.namespace,
      labels: sliceLabels(service),
      ownerReferences: [serviceOwnerRef(service)],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

/**
 * The creations, updates and deletions that make `existing` (the Service's managed IPv4 slices)
 * hold `desired`.
 */
export function planSlices(service: Service, desired: DesiredEndpoints, existing: readonly EndpointSlice[], maxPerSlice = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = sliceLabels(service);
  const placed = new Set<string>();
  const kept: { original: EndpointSlice; next: MutableSlice; group: string }[] = [];

  if (desired.groups.size === 0) {
    // No endpoints: exactly one empty placeholder slice.
    const placeholder: EndpointSlice = newSlice(service, [], []);
    const [first, ...rest] = existing;
    if (!first) plan.create.push(placeholder);
    else {
      const next = { ...first, metadata: { ...first.metadata, labels }, endpoints: [], ports: [] } as EndpointSlice;
      if (!sameContent(first, next)) plan.update.push(next);
    }
    plan.delete.push(...rest);
    return plan;
  }

  for (const slice of existing) {
    const key = portsKey((slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol })));
    const group = desired.groups.get(key);
    if (!group) {
      plan.delete.push(slice);
      continue;
    }
    const endpoints: Endpoint[] = [];
    for (const e of slice.endpoints ?? []) {
      const k = endpointKey(e);
      const wanted = group.endpoints.get(k);
      if (wanted && !placed.has(k)) {
        endpoints.push(wanted);
        placed.add(k);
      }
    }
    kept.push({ original: slice, next: { ...slice, metadata: { ...slice.metadata, labels }, endpoints, ports: group.ports }, group: key });
  }

  for (const [key, group] of desired.groups) {
    const remaining = [...group.endpoints].filter(([k]) => !placed.has(k)).map(([, e]) => e);
    // Fill the group's slices that have room, fullest first, so that few slices change.
    const slices = kept.filter((s) => s.group === key).sort((a, b) => (b.next.endpoints?.length ?? 0) - (a.next.endpoints?.length ?? 0));
    for (const s of slices) {
      const room = maxPerSlice - (s.next.endpoints?.length ?? 0);
      if (room <= 0 || remaining.length === 0) continue;
      s.next.endpoints = [...(s.next.endpoints ?? []), ...remaining.splice(0, room)];
    }
    while (remaining.length > 0) plan.create.push(newSlice(service, group.ports, remaining.splice(0, maxPerSlice).sort(byPodName)));
  }

  for (const s of kept) {
    if ((s.next.endpoints?.length ?? 0) === 0) {
      plan.delete.push(s.original);
      continue;
    }
    s.next.endpoints = [...(s.next.endpoints ?? [])].sort(byPodName);
    if (!sameContent(s.original, s.next)) plan.update.push(s.next);
  }
  return plan;
}
