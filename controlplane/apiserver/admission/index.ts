// Admission of creates by the namespace's LimitRanges and ResourceQuotas, in kube-apiserver's
// order: LimitRanger's defaults (mutating) before validation; after it, LimitRanger's limits and
// then ResourceQuota (validating). Quota charges are store operations committed in the same
// transaction as the object, each a compare-and-swap on its quota's resourceVersion: kube-apiserver
// writes the charge just before storing the object; one transaction also spares the resourcequota
// controller from correcting a charge whose object was then not stored.

import type { LimitRange, Pod } from 'kubernetes-types/core/v1.js';
import { forbidden } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import { isQuotaIgnored } from '../../../api/resource-quotas.js';
import type { ResourceType } from '../../../api/resources.js';
import type { TxnOp } from '../../store/store.js';
import { encodeObject, objectStorageKey } from '../registry/codec.js';
import type { Registry } from '../registry/registry.js';
import { defaultPodResources, limitRangeViolation } from './limitranger.js';
import type { NamespacePolicies } from './policies.js';
import { chargeQuotas, QuotaRefusal } from './resourcequota.js';
import type { QuotaObject } from './resourcequota.js';

const isPod = (r: ResourceType): boolean => r.group === '' && r.plural === 'pods';

export class CreateAdmission {
  constructor(
    private readonly policies: NamespacePolicies,
    private readonly quotaRegistry: Registry,
  ) {}

  /** LimitRanger's mutation: a new pod's missing requests and limits from the namespace's defaults. */
  mutate(resource: ResourceType, obj: KubeObject): void {
    const namespace = obj.metadata?.namespace;
    if (!namespace || !isPod(resource)) return;
    const limitRanges = this.policies.limitRanges.list(namespace);
    if (limitRanges.length > 0) defaultPodResources(obj as Pod, limitRanges as LimitRange[]);
  }

  /**
   * LimitRanger's and ResourceQuota's validation: throws Forbidden, or returns the quota charges
   * to commit with the object. `fresh` (a retry after a charge lost its compare-and-swap) reads
   * the quotas from the store rather than from the watch.
   */
  async admit(resource: ResourceType, obj: KubeObject, fresh: boolean): Promise<TxnOp[]> {
    const namespace = obj.metadata?.namespace;
    if (!namespace) return [];
    const name = obj.metadata?.name ?? '';
    const refuse = (why: string) => forbidden({ group: resource.group, resource: resource.plural }, name, why);
    if (isPod(resource)) {
      const limitRanges = this.policies.limitRanges.list(namespace);
      const violation = limitRanges.length > 0 ? limitRangeViolation(obj as Pod, limitRanges as LimitRange[]) : undefined;
      if (violation) throw refuse(violation);
    }
    if (isQuotaIgnored(resource)) return [];
    let quotas = this.policies.quotas.list(namespace);
    if (quotas.length === 0) return [];
    if (fresh) quotas = (await this.quotaRegistry.list(namespace, {})).items as QuotaObject[];
    try {
      return chargeQuotas(resource, obj, quotas).map(({ quota, used }) => ({
        op: 'update',
        key: objectStorageKey(this.quotaRegistry.resource, namespace, quota.metadata?.name ?? ''),
        value: encodeObject({ ...quota, status: { ...quota.status, used } }),
        expectedModRevision: Number(quota.metadata?.resourceVersion),
      }));
    } catch (err) {
      if (err instanceof QuotaRefusal) throw refuse(err.message);
      throw err;
    }
  }
}
