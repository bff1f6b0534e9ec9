// What the control plane reads from a pod's status: active, terminal, ready, available. These
// are Kubernetes' own definitions (pkg/api/v1/pod and pkg/controller), shared by the workload
// controllers (ReplicaSet, Deployment, DaemonSet, Job), the endpoint and node lifecycle
// controllers and the scheduler, so that they all count the same way.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { isTerminalPhase } from '../../../api/pod-phase.js';

/** Succeeded or Failed: the pod's containers will not run again. */
export function isPodTerminal(pod: Pod): boolean {
  return isTerminalPhase(pod.status?.phase);
}

/** Counts towards a controller's replicas: not finished and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The pod's Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became ready (ms since the epoch), if it is ready and says so. */
export function podReadySince(pod: Pod): number | undefined {
  const cond = readyCondition(pod);
  if (cond?.status !== 'True' || !cond.lastTransitionTime) return undefined;
  const t = Date.parse(cond.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Ready for at least `minReadySeconds` (podutil.IsPodAvailable). A ready pod whose condition has
 * no transition time counts as available only when minReadySeconds is 0.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/**
 * How long until a ready pod becomes available (ms), or undefined when it already is or is not
 * ready: controllers look again then, since no watch event will tell them.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  if (minReadySeconds <= 0 || !isPodReady(pod)) return undefined;
  const since = podReadySince(pod);
  if (since === undefined) return undefined;
  const left = since + minReadySeconds * 1000 - nowMs;
  return left > 0 ? left : undefined;
}

/**
 * When a controller should look at `pods` again (ms from now): just after the first of them
 * becomes available, or undefined when none is waiting to.
 */
export function availabilityRecheckMs(pods: readonly Pod[], minReadySeconds: number, nowMs: number): number | undefined {
  const waits = pods.map((p) => msUntilAvailable(p, minReadySeconds, nowMs)).filter((ms): ms is number => ms !== undefined);
  // The margin makes sure the pod is past the line when the controller looks.
  return waits.length > 0 ? Math.min(...waits) + 100 : undefined;
}

/** The highest restart count among the pod's containers (init containers included). */
export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    max = Math.max(max, s.restartCount ?? 0);
  }
  return max;
}

/** The sum of the restart counts of the pod's containers (the Job controller's OnFailure budget). */
export function totalContainerRestarts(pod: Pod): number {
  let sum = 0;
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) sum += s.restartCount ?? 0;
  return sum;
}

export function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
