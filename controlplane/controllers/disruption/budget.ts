// The status of one PodDisruptionBudget from its pods (Kubernetes' disruption controller, 1.32):
// how many pods are expected, how many must stay healthy, how many are healthy now and so how
// many may be disrupted. Plain data in, plain data out: no API, no clock of its own.

import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { setStatusCondition } from '../../../api/conditions.js';
import { DELETION_TIMEOUT_MS, DISRUPTION_ALLOWED, withDisruptionAllowedCondition } from '../../../api/disruption-budgets.js';
import { kubeTime } from '../../../api/time.js';
import { controllerRefOf } from '../ownership/controller-ref.js';
import { isPodReady, parseTime } from '../pods/pod-state.js';

export type BudgetStatus = { -readonly [K in keyof PodDisruptionBudgetStatus]: PodDisruptionBudgetStatus[K] };

/** The controller whose scale a pod counts against: its uid and desired replicas. */
export interface ControllerScale {
  uid: string;
  replicas: number;
}

/** Finds the scale of a pod's controller; undefined when the controller is unknown (not found). */
export type ScaleFinder = (pod: Pod) => ControllerScale | undefined;

export class ExpectedCountError extends Error {}

export interface ExpectedCount {
  expectedPods: number;
  desiredHealthy: number;
  /** Pods without a controller, which a percentage or maxUnavailable cannot account for. */
  unmanagedPods: string[];
}

/** Percentages of a total, rounded up (GetScaledValueFromIntOrPercent with roundUp). */
function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) throw new ExpectedCountError(`invalid value for IntOrString: invalid value "${value}": must be an integer or a percentage`);
  return Math.ceil((Number(match[1]) * total) / 100);
}

/**
 * The sum of the scales of the pods' controllers, each controller counted once (getExpectedScale).
 * A pod whose controller is not a kind with a known scale fails the sync.
 */
function expectedScale(pods: readonly Pod[], scaleOf: ScaleFinder): { count: number; unmanagedPods: string[] } {
  const scales = new Map<string, number>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const ref = controllerRefOf(pod);
    if (!ref) {
      unmanagedPods.push(pod.metadata?.name ?? '');
      continue;
    }
    if (scales.has(ref.uid)) continue;
    const scale = scaleOf(pod);
    if (!scale) throw new ExpectedCountError(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
    scales.set(scale.uid, scale.replicas);
  }
  let count = 0;
  for (const replicas of scales.values()) count += replicas;
  return { count, unmanagedPods };
}

/**
 * expectedPods and desiredHealthy (getExpectedPodCount): an integer minAvailable counts the pods
 * there are; a percentage, or any maxUnavailable, counts the controllers' desired replicas.
 */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleFinder): ExpectedCount {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { count, unmanagedPods } = expectedScale(pods, scaleOf);
    return { expectedPods: count, desiredHealthy: Math.max(0, count - scaled(maxUnavailable, count)), unmanagedPods };
  }
  if (typeof minAvailable === 'number') return { expectedPods: pods.length, desiredHealthy: minAvailable, unmanagedPods: [] };
  if (typeof minAvailable === 'string') {
    const { count, unmanagedPods } = expectedScale(pods, scaleOf);
    return { expectedPods: count, desiredHealthy: scaled(minAvailable, count), unmanagedPods };
  }
  return { expectedPods: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/**
 * The disruptedPods entries to keep (buildDisruptedPodMap): those of pods still there, not yet
 * being deleted, whose eviction is less than DELETION_TIMEOUT_MS old; and when to look again.
 */
export function keptDisruptions(pdb: PodDisruptionBudget, pods: readonly Pod[], nowMs: number): { disrupted: Record<string, string>; recheckAtMs?: number } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || !(name in recorded)) continue;
    const expiresAtMs = (parseTime(recorded[name]) ?? 0) + DELETION_TIMEOUT_MS;
    if (expiresAtMs < nowMs) continue;
    disrupted[name] = recorded[name]!;
    recheckAtMs = Math.min(recheckAtMs ?? Infinity, expiresAtMs);
  }
  return recheckAtMs === undefined ? { disrupted } : { disrupted, recheckAtMs };
}

/** Ready pods that are neither being deleted nor just evicted (countHealthyPods). */
export function countHealthy(pods: readonly Pod[], disrupted: Record<string, string>, nowMs: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const evictedAt = disrupted[pod.metadata?.name ?? ''];
    if (evictedAt !== undefined && (parseTime(evictedAt) ?? 0) + DELETION_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** The full status for these counts (updatePdbStatus), with the DisruptionAllowed condition. */
export function budgetStatus(
  pdb: PodDisruptionBudget & { metadata?: { generation?: number } },
  counts: { currentHealthy: number; desiredHealthy: number; expectedPods: number; disrupted: Record<string, string> },
  nowMs: number,
): BudgetStatus {
  // A budget that expects no pods allows nothing, so that its first pods are safe before the
  // controller has seen them.
  const allowed = counts.expectedPods > 0 ? Math.max(0, counts.currentHealthy - counts.desiredHealthy) : 0;
  const status: BudgetStatus = {
    observedGeneration: pdb.metadata?.generation ?? 0,
    disruptionsAllowed: allowed,
    currentHealthy: counts.currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expectedPods,
  };
  if (Object.keys(counts.disrupted).length > 0) status.disruptedPods = counts.disrupted;
  if (pdb.status?.conditions) status.conditions = pdb.status.conditions;
  status.conditions = withDisruptionAllowedCondition(status, nowMs);
  return status;
}

/**
 * What a failed sync leaves (failSafe): no disruptions allowed and DisruptionAllowed False with
 * SyncFailed and the error, so that evictions stop while the budget cannot be computed.
 */
export function failedStatus(pdb: PodDisruptionBudget, message: string, nowMs: number): BudgetStatus {
  const status: BudgetStatus = { ...(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), disruptionsAllowed: 0 };
  status.conditions = setStatusCondition(status.conditions, {
    type: DISRUPTION_ALLOWED,
    status: 'False',
    reason: 'SyncFailed',
    message,
    observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: kubeTime(nowMs),
  });
  return status;
}
