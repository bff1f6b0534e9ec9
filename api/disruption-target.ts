// The DisruptionTarget pod condition (Kubernetes 1.31+, PodDisruptionConditions): whoever deletes
// a pod for a disruption (the Eviction API, NoExecute taint eviction, the garbage collection of
// pods whose node is gone) first says so in the pod's status, so that `kubectl describe pod`,
// and controllers reading the pod while it terminates, can tell why it goes.

import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { setStatusCondition } from './conditions.js';
import { kubeTime } from './time.js';

const MESSAGES = {
  EvictionByEvictionAPI: 'Eviction API: evicting',
  DeletionByTaintManager: 'Taint manager: deleting due to NoExecute taint',
  DeletionByPodGC: 'PodGC: node no longer exists',
} as const;

export type DisruptionReason = keyof typeof MESSAGES;

/** The pod's status with DisruptionTarget=True for `reason` (the pod itself is not changed). */
export function disruptionTargetStatus(pod: Pod, reason: DisruptionReason, now: string = kubeTime()): NonNullable<Pod['status']> {
  const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason, message: MESSAGES[reason], lastTransitionTime: now };
  return { ...pod.status, conditions: setStatusCondition(pod.status?.conditions, condition) };
}
