// Taints and tolerations (core/v1 Toleration.ToleratesTaint), shared by the scheduler's filter
// and score and by the node lifecycle controller's NoExecute eviction.

import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** The taints the node lifecycle controller manages (Kubernetes' well-known keys). */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** The taint effects that keep new pods off a node (PreferNoSchedule only lowers its score). */
export const HARD_TAINT_EFFECTS: readonly string[] = ['NoSchedule', 'NoExecute'];

/**
 * v1 Toleration.ToleratesTaint: the effects agree (an empty effect matches all), the keys agree
 * (an empty key matches all; validation allows it only with Exists), and the operator is Exists
 * (any value) or Equal, the default (the same value).
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

export function tolerates(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The first taint (of the given effects) that no toleration matches. */
export function firstUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effects: readonly string[],
): Taint | undefined {
  return (taints ?? []).find((taint) => effects.includes(taint.effect) && !tolerates(tolerations, taint));
}

/** How kube-scheduler names a taint in its messages: `{key: value}`. */
export function describeTaint(taint: Taint): string {
  return `{${taint.key}: ${taint.value ?? ''}}`;
}
