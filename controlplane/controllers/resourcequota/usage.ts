// What a ResourceQuota's status should say (the quota controller's syncResourceQuota):
// status.hard is a copy of spec.hard, status.used the usage of the objects that exist now,
// for exactly the resources spec.hard names.

import type { ResourceQuota, ResourceQuotaStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import { Quantity } from '../../../api/quantity.js';
import type { Usage } from '../../../api/resource-quotas.js';
import { countsResourceName, fromUsage, objectUsage } from '../../../api/resource-quotas.js';
import type { ResourceType } from '../../../api/resources.js';

/** The kinds whose objects a quota with these hard resource names counts. */
export function countedResources(hard: readonly string[], served: readonly ResourceType[]): ResourceType[] {
  return served.filter((r) => r.namespaced && hard.some((name) => countsResourceName(r, name)));
}

/**
 * The quota's new status from the objects of its namespace, by kind. A hard resource that no
 * served kind counts (services.nodeports, a kind Skiff does not serve) gets no used entry,
 * as in Kubernetes, where no evaluator computes it.
 */
export function quotaStatus(quota: ResourceQuota, objects: ReadonlyMap<ResourceType, readonly KubeObject[]>): ResourceQuotaStatus {
  const hard = quota.spec?.hard ?? {};
  const names = Object.keys(hard);
  const used: Usage = new Map();
  for (const [resource, list] of objects) {
    for (const name of names) if (countsResourceName(resource, name) && !used.has(name)) used.set(name, Quantity.zero());
    for (const obj of list) {
      for (const [name, q] of objectUsage(resource, obj)) {
        if (!(name in hard)) continue;
        used.set(name, used.get(name)?.add(q) ?? q);
      }
    }
  }
  return { hard: { ...hard }, used: fromUsage(used) };
}
