// What a Service's pods contribute to its endpoints: which pods count, their addresses and
// conditions, and the port numbers behind the Service's target ports, resolved per pod so that a
// named target port can mean different numbers on different pods (Kubernetes' podutil.FindPort).

import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { isPodReady, isPodTerminal } from '../pods/pod-state.js';

/** Whether a pod appears in the endpoints at all (ShouldPodBeInEndpoints). */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** The pod's IPv4 addresses (Skiff's slices are all of addressType IPv4). */
export function ipv4Addresses(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.filter(isIPv4);
}

/**
 * The container port a Service port reaches on this pod: a number as given, a name looked up in
 * the pod's containers (with the same protocol); undefined if the pod has no such port.
 */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  // Sidecars (init containers that keep running) serve ports too.
  const containers = [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

export interface ResolvedPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The Service's ports as this pod serves them; ports the pod lacks are left out. */
export function podPorts(service: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const resolved: ResolvedPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) resolved.appProtocol = sp.appProtocol;
    out.push(resolved);
  }
  return out;
}

/** A stable key for a set of ports: endpoints with the same key share slices and subsets. */
export function portsKey(ports: readonly ResolvedPort[]): string {
  return JSON.stringify(
    [...ports].map((p) => [p.name, p.port, p.protocol, p.appProtocol ?? '']).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

/** The pod's hostname is published only when it names this Service as its subdomain. */
export function publishedHostname(pod: Pod, service: Service): string | undefined {
  const hostname = pod.spec?.hostname;
  if (!hostname || pod.spec?.subdomain !== service.metadata?.name || pod.metadata?.namespace !== service.metadata?.namespace) return undefined;
  return hostname;
}

export interface PodConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * An endpoint's conditions: serving follows readiness, terminating the deletion, and ready is
 * serving and not terminating, except that publishNotReadyAddresses makes every pod ready.
 */
export function endpointConditions(pod: Pod, service: Service): PodConditions {
  const publishAll = service.spec?.publishNotReadyAddresses === true;
  const serving = publishAll || isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  return { ready: publishAll || (serving && !terminating), serving, terminating };
}

/** Services selecting pods by label; services without a selector get no endpoints from us. */
export function selectsPods(service: Service): boolean {
  return service.spec?.selector !== undefined && service.spec?.selector !== null && service.spec?.type !== 'ExternalName';
}

export function selectorMatches(service: Service, pod: Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(service.spec?.selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** The labels Kubernetes marks headless Services' endpoints with. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === 'None';
}
