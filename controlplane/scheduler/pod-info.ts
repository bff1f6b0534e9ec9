// What the scheduler needs to know about a pod, computed once and kept while the pod's
// scheduling inputs stay the same: its resource requests (kube-scheduler's PodRequests:
// containers summed, init containers at their peak, plus overhead), the "non-zero" requests
// used for scoring, host ports, its controller owner, and its pod (anti-)affinity terms
// compiled to selectors.

import type { Container, Pod, PodAffinityTerm, Toleration } from 'kubernetes-types/core/v1.js';
import { LabelSelector, selectorFromLabelSelector } from '../../api/labels.js';
import type { Labels } from '../../api/labels.js';
import { tryParseQuantity } from '../../api/quantity.js';
import { sameJson } from '../../api/same-json.js';

/** Amounts per resource name: cpu in millicores, everything else in whole units (bytes for memory). */
export type ResourceAmounts = Map<string, number>;

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** A required pod (anti-)affinity term, ready to match pods. */
export interface AffinityTerm {
  selector: LabelSelector;
  /** Namespaces listed explicitly (or the pod's own when neither list nor selector is given). */
  namespaces: readonly string[];
  /** Namespaces chosen by their labels; `everything()` for `{}`. */
  namespaceSelector: LabelSelector | undefined;
  topologyKey: string;
}

export interface PodInfo {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  /**
   * The latest version of the pod seen. The other fields were computed from an earlier one with
   * the same scheduling inputs (`stillDescribes`): status writes only replace this field.
   */
  pod: Pod;
  labels: Labels;
  requests: ResourceAmounts;
  /** cpu (milli) and memory with kube-scheduler's defaults for containers that request none. */
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
  hostPorts: HostPort[];
  /** uid of the controller owner (ReplicaSet, Job...), for spreading. */
  ownerUid: string | undefined;
  tolerations: readonly Toleration[];
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
}

/** kube-scheduler's defaults for scoring containers without requests (100m CPU, 200 MiB). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A resource amount as the scheduler counts it: millicores for cpu, units for the rest; 0 if unparsable. */
export function amountOf(resource: string, value: string | number | undefined): number {
  if (value === undefined) return 0;
  const q = tryParseQuantity(value);
  if (!q) return 0;
  return resource === 'cpu' ? q.milliValue() : q.value();
}

function addInto(total: ResourceAmounts, list: Record<string, string | number> | undefined): void {
  for (const [name, value] of Object.entries(list ?? {})) total.set(name, (total.get(name) ?? 0) + amountOf(name, value));
}

function maxInto(total: ResourceAmounts, other: ResourceAmounts): void {
  for (const [name, value] of other) if (value > (total.get(name) ?? 0)) total.set(name, value);
}

/**
 * Requests of a pod: the sum over its containers and restartable (sidecar) init containers, or
 * the largest one-off init container plus the sidecars started before it, whichever is larger;
 * then the pod overhead.
 */
export function podRequests(pod: Pod): ResourceAmounts {
  const total: ResourceAmounts = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(total, c.resources?.requests as Record<string, string> | undefined);
  const sidecars: ResourceAmounts = new Map();
  const initPeak: ResourceAmounts = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own: ResourceAmounts = new Map();
    addInto(own, c.resources?.requests as Record<string, string> | undefined);
    if (c.restartPolicy === 'Always') {
      for (const [name, value] of own) sidecars.set(name, (sidecars.get(name) ?? 0) + value);
      maxInto(initPeak, sidecars);
      continue;
    }
    for (const [name, value] of sidecars) own.set(name, (own.get(name) ?? 0) + value);
    maxInto(initPeak, own);
  }
  for (const [name, value] of sidecars) total.set(name, (total.get(name) ?? 0) + value);
  maxInto(total, initPeak);
  addInto(total, pod.spec?.overhead as Record<string, string> | undefined);
  return total;
}

function nonZero(pod: Pod, resource: 'cpu' | 'memory', fallback: number): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const value = (c.resources?.requests as Record<string, string> | undefined)?.[resource];
    sum += value === undefined ? fallback : amountOf(resource, value);
  }
  return sum + amountOf(resource, (pod.spec?.overhead as Record<string, string> | undefined)?.[resource]);
}

export function hostPortsOf(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return ports;
}

export function compileAffinityTerm(term: PodAffinityTerm, podNamespace: string): AffinityTerm {
  const converted = selectorFromLabelSelector(term.labelSelector);
  const selector = converted.ok ? converted.selector : LabelSelector.nothing();
  let namespaceSelector: LabelSelector | undefined;
  if (term.namespaceSelector) {
    const ns = selectorFromLabelSelector(term.namespaceSelector);
    namespaceSelector = ns.ok ? ns.selector : LabelSelector.nothing();
  }
  const listed = term.namespaces ?? [];
  // Neither a list nor a selector: the term is about the pod's own namespace.
  const namespaces = listed.length === 0 && !namespaceSelector ? [podNamespace] : listed;
  return { selector, namespaces, namespaceSelector, topologyKey: term.topologyKey };
}

/** Whether `term` (of some pod) selects `pod`. */
export function termMatches(term: AffinityTerm, pod: PodInfo, namespaceLabels: (namespace: string) => Labels | undefined): boolean {
  const inNamespace =
    term.namespaces.includes(pod.namespace) || (term.namespaceSelector !== undefined && term.namespaceSelector.matches(namespaceLabels(pod.namespace)));
  return inNamespace && term.selector.matches(pod.labels);
}

/** `namespace/name`, the key of a pod in the cache. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function controllerUidOf(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller)?.uid;
}

export function podInfoOf(pod: Pod): PodInfo {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const affinity = pod.spec?.affinity;
  return {
    key: podKey(pod),
    uid: pod.metadata?.uid ?? '',
    namespace,
    name,
    pod,
    labels: pod.metadata?.labels ?? {},
    requests: podRequests(pod),
    nonZeroMilliCpu: nonZero(pod, 'cpu', DEFAULT_MILLI_CPU_REQUEST),
    nonZeroMemory: nonZero(pod, 'memory', DEFAULT_MEMORY_REQUEST),
    hostPorts: hostPortsOf(pod),
    ownerUid: controllerUidOf(pod),
    tolerations: pod.spec?.tolerations ?? [],
    requiredAffinity: (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileAffinityTerm(t, namespace)),
    requiredAntiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      compileAffinityTerm(t, namespace),
    ),
  };
}

/** What podInfoOf reads of a container: its requests, host ports and (init containers) restart policy. */
function sameContainerInputs(now: readonly Container[] = [], before: readonly Container[] = []): boolean {
  if (now.length !== before.length) return false;
  return now.every((c, i) => {
    const old = before[i]!;
    return c.restartPolicy === old.restartPolicy && sameJson(c.resources?.requests, old.resources?.requests) && sameJson(c.ports, old.ports);
  });
}

/**
 * Whether `info` still describes `pod`, a later version of `info.pod`: podInfoOf would compute
 * the same key, uid, labels, owner, requests, host ports, tolerations and pod (anti-)affinity
 * from it. Agents rewrite a bound pod's status (phase, conditions, container statuses) many
 * times, and none of that is read here; a label change, an adoption or a resize is.
 */
export function stillDescribes(info: PodInfo, pod: Pod): boolean {
  const before = info.pod;
  if (pod === before) return true;
  const spec = pod.spec;
  const oldSpec = before.spec;
  return (
    podKey(pod) === info.key &&
    (pod.metadata?.uid ?? '') === info.uid &&
    controllerUidOf(pod) === info.ownerUid &&
    sameJson(pod.metadata?.labels ?? {}, info.labels) &&
    sameContainerInputs(spec?.containers, oldSpec?.containers) &&
    sameContainerInputs(spec?.initContainers, oldSpec?.initContainers) &&
    sameJson(spec?.overhead, oldSpec?.overhead) &&
    sameJson(spec?.tolerations, oldSpec?.tolerations) &&
    sameJson(spec?.affinity?.podAffinity, oldSpec?.affinity?.podAffinity) &&
    sameJson(spec?.affinity?.podAntiAffinity, oldSpec?.affinity?.podAntiAffinity)
  );
}
