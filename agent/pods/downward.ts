// The downward API: pod fields and container resources as env values or files
// (fieldRef / resourceFieldRef), with the kubelet's formatting rules.

import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../api/quantity.js';

export interface PodRuntimeFields {
  podIp?: string;
  hostIp: string;
}

/** Node allocatable, the value of a resourceFieldRef whose container sets no limit. */
export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

/** `key="value"` lines, sorted, values escaped as Go's %q (what the kubelet writes for labels/annotations). */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map?.[k] ?? '')}`)
    .join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The value of a fieldRef; throws for a path the downward API does not offer. */
export function fieldRefValue(pod: Pod, ref: ObjectFieldSelector, runtime: PodRuntimeFields): string {
  const meta = pod.metadata ?? {};
  const path = ref.fieldPath;
  const sub = SUBSCRIPT.exec(path);
  if (sub) {
    const map = sub[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[sub[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return runtime.hostIp;
    case 'status.podIP':
    case 'status.podIPs':
      return runtime.podIp ?? '';
    default:
      throw new Error(`unsupported fieldRef fieldPath "${path}"`);
  }
}

/** The value of a resourceFieldRef, divided by its divisor and rounded up, as the kubelet does. */
export function resourceFieldValue(pod: Pod, container: Container | undefined, ref: ResourceFieldSelector, allocatable: NodeAllocatable): string {
  const target = ref.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName) : container;
  if (!target) throw new Error(`resourceFieldRef names container "${ref.containerName}", which the pod does not have`);
  const [kind, resource] = ref.resource.split('.', 2) as [string, string];
  const values = ((kind === 'limits' ? target.resources?.limits : target.resources?.requests) ?? {}) as Record<string, string | number>;
  const divisor = parseQuantity(ref.divisor ?? 1);
  const raw = values[resource];
  if (resource === 'cpu') {
    const milli = raw !== undefined ? parseQuantity(raw).milliValue() : kind === 'limits' ? allocatable.cpuMilli : 0;
    return String(Math.ceil(milli / Math.max(1, divisor.milliValue())));
  }
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    const fallback = resource === 'memory' ? allocatable.memoryBytes : allocatable.ephemeralStorageBytes;
    const amount = raw !== undefined ? parseQuantity(raw).value() : kind === 'limits' ? fallback : 0;
    return String(Math.ceil(amount / Math.max(1, divisor.value())));
  }
  throw new Error(`unsupported resourceFieldRef resource "${ref.resource}"`);
}
