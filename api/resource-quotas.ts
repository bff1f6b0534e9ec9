// ResourceQuota accounting that quota admission (API server) and the resourcequota controller
// share, as Kubernetes shares its quota evaluators (pkg/quota/v1): what one object uses of which
// quota resource names, and the list arithmetic over those names.

import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from './objects.js';
import { Quantity, tryParseQuantity } from './quantity.js';
import type { ResourceType } from './resources.js';
import { isTerminalPhase } from './pod-phase.js';

/** A resource list read as quantities (a malformed entry is left out: validation refused it). */
export type Usage = Map<string, Quantity>;

/** The kinds with a quota name of their own besides `count/<plural>` (core/v1's legacy names). */
const LEGACY_COUNT_NAMES = new Set(['services', 'secrets', 'configmaps', 'resourcequotas', 'replicationcontrollers', 'persistentvolumeclaims']);

/** Kinds quota never counts (Kubernetes' ignored resources that Skiff serves). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

export function isQuotaIgnored(resource: ResourceType): boolean {
  return IGNORED.has(`${resource.group}/${resource.plural}`);
}

/** `count/pods`, `count/deployments.apps`: the object count name of a kind. */
export function objectCountName(resource: Pick<ResourceType, 'group' | 'plural'>): string {
  return resource.group ? `count/${resource.plural}.${resource.group}` : `count/${resource.plural}`;
}

/**
 * The compute resources of pods a quota can hold. "NOTE: it was a mistake, but if a quota tracks
 * cpu or memory related resources, the incoming pod is required to have those values set"
 * (Kubernetes' pod evaluator): these are the ones a container must specify.
 */
export const POD_REQUIRED_RESOURCES = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);
const POD_RESOURCES = new Set([...POD_REQUIRED_RESOURCES, 'pods', 'ephemeral-storage', 'requests.ephemeral-storage', 'limits.ephemeral-storage']);

/** The quota names an object of `resource` can be charged to (MatchingResources). */
export function countsResourceName(resource: ResourceType, name: string): boolean {
  if (name === objectCountName(resource)) return true;
  if (resource.group === '' && LEGACY_COUNT_NAMES.has(resource.plural) && name === resource.plural) return true;
  return resource.group === '' && resource.plural === 'pods' && POD_RESOURCES.has(name);
}

export function toUsage(list: Record<string, unknown> | undefined): Usage {
  const usage: Usage = new Map();
  for (const [name, raw] of Object.entries(list ?? {})) {
    const q = typeof raw === 'string' || typeof raw === 'number' ? tryParseQuantity(raw) : undefined;
    if (q) usage.set(name, q);
  }
  return usage;
}

export function fromUsage(usage: Usage): Record<string, string> {
  return Object.fromEntries([...usage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, v.toString()]));
}

export function addUsage(a: Usage, b: Usage): Usage {
  const sum = new Map(a);
  for (const [name, q] of b) sum.set(name, sum.get(name)?.add(q) ?? q);
  return sum;
}

/** A pod that finished (Succeeded or Failed) no longer holds compute quota (QuotaV1Pod). */
export function isTerminalPod(pod: Pod): boolean {
  return isTerminalPhase(pod.status?.phase);
}

/**
 * A pod's requests or limits (resource helper PodRequests/PodLimits): the sum over its
 * containers, at least any one init container's (init containers run one at a time, before
 * them), plus the pod's overhead.
 */
export function podResourceList(pod: Pod, field: 'requests' | 'limits'): Usage {
  const list = (c: Container) => toUsage(c.resources?.[field]);
  let total: Usage = new Map();
  for (const c of pod.spec?.containers ?? []) total = addUsage(total, list(c));
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [name, q] of list(c)) if (!total.has(name) || total.get(name)!.cmp(q) < 0) total.set(name, q);
  }
  if (pod.spec?.overhead) total = addUsage(total, toUsage(pod.spec.overhead));
  return total;
}

/** The compute names one container's (or a pod's) requests and limits produce (podComputeUsageHelper). */
export function computeUsage(requests: Usage, limits: Usage): Usage {
  const usage: Usage = new Map([['pods', Quantity.fromValue(1)]]);
  for (const resource of ['cpu', 'memory', 'ephemeral-storage']) {
    const request = requests.get(resource);
    const limit = limits.get(resource);
    if (request) usage.set(resource, request).set(`requests.${resource}`, request);
    if (limit) usage.set(`limits.${resource}`, limit);
  }
  return usage;
}

/** What one object uses (the evaluators' Usage): its counts, and a live pod's compute resources. */
export function objectUsage(resource: ResourceType, obj: KubeObject): Usage {
  const usage: Usage = new Map([[objectCountName(resource), Quantity.fromValue(1)]]);
  if (resource.group === '' && LEGACY_COUNT_NAMES.has(resource.plural)) usage.set(resource.plural, Quantity.fromValue(1));
  if (resource.group === '' && resource.plural === 'pods') {
    const pod = obj as Pod;
    // count/pods counts every pod stored; `pods` and compute resources only those still running.
    if (isTerminalPod(pod)) return usage;
    for (const [name, q] of computeUsage(podResourceList(pod, 'requests'), podResourceList(pod, 'limits'))) usage.set(name, q);
  }
  return usage;
}

/** `pods=1,requests.cpu=500m`: a resource list in quota messages (sorted by name). */
export function formatUsage(usage: Usage): string {
  return [...usage.keys()]
    .sort()
    .map((name) => `${name}=${usage.get(name)!.toString()}`)
    .join(',');
}
