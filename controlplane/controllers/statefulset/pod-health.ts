// What the StatefulSet controller waits for before it touches the next ordinal. Stricter than the
// shared pod-state: a pod counts only while its phase is Running, so a pod whose containers all
// exited but whose Ready condition was not yet withdrawn holds the ordered rollout back.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodAvailable, isPodReady } from '../pods/pod-state.js';

/** Phase Running and the Ready condition True (isRunningAndReady). */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

/** Running and ready for at least minReadySeconds (isRunningAndAvailable). */
export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  return pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, nowMs);
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

/** Not available, or on its way out (isUnavailable). */
export function isUnavailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  return !isRunningAndAvailable(pod, minReadySeconds, nowMs) || isTerminating(pod);
}
