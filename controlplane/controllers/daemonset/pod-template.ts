// The pods a DaemonSet creates: its template with the daemon tolerations, the
// controller-revision-hash label, and a required node affinity on metadata.name that pins the pod
// to its node while leaving the binding to the scheduler, as Kubernetes does since 1.12.

import type { Affinity, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import { daemonTolerations, withTolerations } from './node-eligibility.js';
import { deepCopy } from '../../../api/objects.js';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
/** Kept for pods of DaemonSets that carry the deprecated template-generation annotation. */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export function templateGeneration(ds: DaemonSet): string | undefined {
  return ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
}

/** The template every pod of the current revision is made from (util.CreatePodTemplate). */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const template = deepCopy(ds.spec?.template ?? {}) as PodTemplateSpec;
  const spec = template.spec ?? { containers: [] };
  const labels: Record<string, string> = { ...template.metadata?.labels };
  const generation = templateGeneration(ds);
  if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = generation;
  if (hash) labels[CONTROLLER_REVISION_HASH_LABEL] = hash;
  return {
    ...template,
    metadata: { ...template.metadata, labels },
    spec: { ...spec, tolerations: withTolerations(spec.tolerations ?? [], daemonTolerations(spec.hostNetwork ?? false)) },
  };
}

/**
 * The affinity with its required node terms replaced by "metadata.name In [node]"
 * (ReplaceDaemonSetPodNodeNameNodeAffinity): the controller already checked that the node
 * satisfies the user's terms, and the scheduler only needs to know which node is meant.
 */
export function pinnedToNode(affinity: Affinity | undefined, nodeName: string): Affinity {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  return {
    ...affinity,
    nodeAffinity: {
      ...affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] },
    },
  };
}

/** The node a daemon pod is for: where it is bound, or where its affinity pins it. */
export function targetNodeOf(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}

/** Whether a pod is of the current revision (util.IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const byGeneration = generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === generation;
  const byHash = hash !== '' && labels[CONTROLLER_REVISION_HASH_LABEL] === hash;
  return byHash || byGeneration;
}
