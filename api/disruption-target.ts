// The DisruptionTarget pod condition (Kubernetes 1.31+, PodDisruptionConditions): whoever deletes
// a pod for a disruption (the Eviction API, NoExecute taint eviction, the garbage collection of
// pods whose node is gone) first says so in the pod's status, so that `kubectl describe pod`,
// and controllers reading the pod while it terminates, can tell why it goes. A condition whose
// pod is still not being deleted after a while is stale (the deletion failed): the disruption
// controller sets it to False.

import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { setStatusCondition } from './conditions.js';
import { isTerminalPhase } from './pod-phase.js';
import { kubeTime } from './time.js';

export const DISRUPTION_TARGET = 'DisruptionTarget';

const MESSAGES = {
  EvictionByEvictionAPI: 'Eviction API: evicting',
  DeletionByTaintManager: 'Taint manager: deleting due to NoExecute taint',
  DeletionByPodGC: 'PodGC: node no longer exists',
} as const;

export type DisruptionReason = keyof typeof MESSAGES;

/** The pod's status with DisruptionTarget=True for `reason` (the pod itself is not changed). */
export function disruptionTargetStatus(pod: Pod, reason: DisruptionReason, now: string = kubeTime()): NonNullable<Pod['status']> {
  const condition: PodCondition = { type: DISRUPTION_TARGET, status: 'True', reason, message: MESSAGES[reason], lastTransitionTime: now };
  return { ...pod.status, conditions: setStatusCondition(pod.status?.conditions, condition) };
}

/** stalePodDisruptionTimeout of Kubernetes' disruption controller. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 120_000;

/**
 * How long until `pod`'s DisruptionTarget condition is stale (0: it is), or undefined when it
 * has none that can be: the pod is being deleted or has ended, the condition is not True, or
 * the kubelet set it (reason TerminationByKubelet: its eviction may take arbitrarily long to
 * begin), as in Kubernetes' nonTerminatingPodHasStaleDisruptionCondition.
 */
export function staleDisruptionWaitMs(pod: Pod, nowMs: number, timeoutMs: number): number | undefined {
  if (pod.metadata?.deletionTimestamp || isTerminalPhase(pod.status?.phase)) return undefined;
  const condition = pod.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET);
  if (condition?.status !== 'True' || condition.reason === 'TerminationByKubelet') return undefined;
  const since = Date.parse(condition.lastTransitionTime ?? '');
  return Number.isNaN(since) ? 0 : Math.max(0, since + timeoutMs - nowMs);
}
