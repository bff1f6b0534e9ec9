// The ResourceQuota admission plugin's check of one create (k8s.io/apiserver
// admission/plugin/resourcequota, CheckRequest): which quotas of the namespace the object is
// charged to, the refusals in Kubernetes' words, and each charged quota's new status.used. The
// caller commits those with the object, compare-and-swap on each quota's resourceVersion.
// Quota scopes are refused by validation, so every quota here matches every object.

import type { Container, Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import type { Usage } from '../../../api/resource-quotas.js';
import { addUsage, computeUsage, countsResourceName, formatUsage, fromUsage, objectUsage, POD_REQUIRED_RESOURCES, toUsage } from '../../../api/resource-quotas.js';
import type { ResourceType } from '../../../api/resources.js';

export type QuotaObject = ResourceQuota & KubeObject;

export interface QuotaCharge {
  quota: QuotaObject;
  used: Record<string, string>;
}

/** A refusal: the message after `<resource> "<name>" is forbidden: `. */
export class QuotaRefusal extends Error {}

/** The pod evaluator's Constraints: every container names each cpu/memory resource the quota holds. */
function missingPodResources(pod: Pod, required: readonly string[]): string | undefined {
  const wanted = required.filter((r) => POD_REQUIRED_RESOURCES.has(r));
  if (wanted.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    const has = computeUsage(toUsage(c.resources?.requests), toUsage(c.resources?.limits));
    for (const r of wanted) if (!has.has(r)) (missing.get(r) ?? missing.set(r, new Set()).get(r)!).add(c.name);
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

function mask(usage: Usage, names: Iterable<string>): Usage {
  const out: Usage = new Map();
  for (const n of names) {
    const q = usage.get(n);
    if (q) out.set(n, q);
  }
  return out;
}

/**
 * The charges of creating `obj`, or a QuotaRefusal. A quota whose status.hard is not set yet
 * (the controller has not seen it) does not apply, as in Kubernetes; one whose status.used
 * lacks a resource it limits refuses with "status unknown".
 */
export function chargeQuotas(resource: ResourceType, obj: KubeObject, quotas: readonly QuotaObject[]): QuotaCharge[] {
  const interesting: { quota: QuotaObject; hard: Usage; restricted: string[] }[] = [];
  for (const quota of quotas) {
    const hard = toUsage(quota.status?.hard);
    const restricted = [...hard.keys()].filter((name) => countsResourceName(resource, name));
    if (restricted.length === 0) continue;
    const name = quota.metadata?.name ?? '';
    if (resource.group === '' && resource.plural === 'pods') {
      const missing = missingPodResources(obj as Pod, restricted);
      if (missing) throw new QuotaRefusal(`failed quota: ${name}: ${missing}`);
    }
    const used = quota.status?.used ?? {};
    if (restricted.some((r) => !(r in used))) {
      throw new QuotaRefusal(`status unknown for quota: ${name}, resources: ${[...restricted].sort().join(',')}`);
    }
    interesting.push({ quota, hard, restricted });
  }
  if (interesting.length === 0) return [];
  const delta = new Map([...objectUsage(resource, obj)].filter(([, q]) => !q.isZero()));
  const charges: QuotaCharge[] = [];
  for (const { quota, hard } of interesting) {
    const requested = mask(delta, hard.keys());
    if (requested.size === 0) continue;
    const used = toUsage(quota.status?.used);
    const next = addUsage(used, requested);
    const exceeded = [...requested.keys()].filter((n) => next.get(n)!.cmp(hard.get(n)!) > 0);
    if (exceeded.length > 0) {
      throw new QuotaRefusal(
        `exceeded quota: ${quota.metadata?.name ?? ''}, requested: ${formatUsage(mask(requested, exceeded))}, ` +
          `used: ${formatUsage(mask(used, exceeded))}, limited: ${formatUsage(mask(hard, exceeded))}`,
      );
    }
    charges.push({ quota, used: fromUsage(next) });
  }
  return charges;
}
