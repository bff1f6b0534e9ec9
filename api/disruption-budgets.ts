// PodDisruptionBudget rules that the eviction subresource (API server) and the disruption
// controller share, as Kubernetes shares them through component-helpers: which pods a budget
// covers and its DisruptionAllowed condition.

import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { setStatusCondition } from './conditions.js';
import { selectorFromLabelSelector } from './labels.js';
import { kubeTime } from './time.js';

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
/** How long an eviction's entry in status.disruptedPods keeps its pod out of currentHealthy. */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * Whether the budget covers a pod with these labels. A budget whose selector is invalid or empty
 * covers nothing here (the eviction subresource's rule), whatever it selects for the controller.
 */
export function budgetCoversPod(pdb: PodDisruptionBudget, labels: Record<string, string> | undefined): boolean {
  const converted = selectorFromLabelSelector(pdb.spec?.selector);
  return converted.ok && !converted.selector.empty && converted.selector.matches(labels);
}

/**
 * Sets DisruptionAllowed from status.disruptionsAllowed (component-helpers'
 * UpdateDisruptionAllowedCondition): True with SufficientPods, or False with InsufficientPods.
 * lastTransitionTime moves only when the status does.
 */
export function withDisruptionAllowedCondition(status: NonNullable<PodDisruptionBudget['status']>, now = Date.now()): Condition[] {
  const allowed = status.disruptionsAllowed > 0;
  const next: Condition = {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: kubeTime(now),
  };
  return setStatusCondition(status.conditions, next);
}
