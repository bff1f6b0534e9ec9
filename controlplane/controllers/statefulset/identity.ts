// A StatefulSet pod's identity, as Kubernetes gives it: the name `<set>-<ordinal>`, the labels
// `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`, the hostname (its
// name) and subdomain (the set's serviceName) that give it a stable DNS name, and the
// `controller-revision-hash` label naming the ControllerRevision it was made from.

import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import { newControllerRef } from '../ownership/controller-ref.js';
import { podFromTemplate } from '../pods/pod-control.js';
import type { PodObject } from '../pods/pod-control.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../daemonset/pod-template.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** `<parent>-<ordinal>` (getParentNameAndOrdinal). */
const MEMBER_NAME = /^(.*)-(0|[1-9][0-9]*)$/;

/**
 * The ordinal of a pod named `<set>-<ordinal>`, or undefined for any other pod. Ordinals are
 * non-negative int32 written without leading zeros (a pod named `web-01` is nobody's member).
 */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const match = MEMBER_NAME.exec(pod.metadata?.name ?? '');
  if (!match || match[1] !== set.metadata?.name) return undefined;
  const ordinal = Number(match[2]);
  return ordinal < 2 ** 31 ? ordinal : undefined;
}

/** The only pods a StatefulSet claims are named like its members (isMemberOf). */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return ordinalOf(set, pod) !== undefined;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name}-${ordinal}`;
}

/** spec.ordinals.start: the first ordinal (0 unless set). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** The revision (ControllerRevision name) a pod was made from. */
export function podRevision(pod: Pod): string | undefined {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
}

/** The labels that name a member (updateIdentity); the controller restores them if removed. */
export function identityLabels(set: StatefulSet, ordinal: number): Record<string, string> {
  return { [POD_NAME_LABEL]: podName(set, ordinal), [POD_INDEX_LABEL]: String(ordinal) };
}

/** Whether the pod carries its identity (identityMatches, with the pod-index label). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(set, pod);
  if (ordinal === undefined || pod.metadata?.namespace !== set.metadata?.namespace) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(identityLabels(set, ordinal)).every(([k, v]) => labels[k] === v);
}

/**
 * The pod of `ordinal` made from `template` (the template of `revision`): the set's controller
 * reference, the identity labels, hostname and subdomain (set only at creation: a pod's are
 * immutable), and the revision label (newVersionedStatefulSetPod).
 */
export function newStatefulSetPod(set: StatefulSet & KubeObject, template: PodTemplateSpec | undefined, ordinal: number, revision: string): PodObject {
  const pod = podFromTemplate(template, set.metadata?.namespace ?? '', '', newControllerRef(set, 'apps/v1', 'StatefulSet'));
  const name = podName(set, ordinal);
  const { generateName: _unused, ...metadata } = pod.metadata ?? {};
  const serviceName = set.spec?.serviceName;
  return {
    ...pod,
    metadata: { ...metadata, name, labels: { ...metadata.labels, ...identityLabels(set, ordinal), [CONTROLLER_REVISION_HASH_LABEL]: revision } },
    spec: { ...pod.spec!, hostname: name, ...(serviceName ? { subdomain: serviceName } : {}) },
  };
}
