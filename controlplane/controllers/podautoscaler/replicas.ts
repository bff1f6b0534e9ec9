// The replica count a Resource metric asks for (kube-controller-manager's replica_calculator.go,
// 1.32): usage over the pods the target's selector picks, against their requests (Utilization)
// or per pod (AverageValue), within a tolerance of 10%. Pods that cannot be trusted are treated
// the cautious way: pods without metrics count as using 100% of their request when scaling
// down and 0% when scaling up; pods not yet ready (for CPU, also pods whose sample predates
// readiness) are left out unless the others ask to scale up, and then count as 0%. Pure
// functions of the pods, the metrics and a clock: unit-testable without an API server.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { tryParseQuantity } from '../../../api/quantity.js';

/** Below this relative change the current count stands (--horizontal-pod-autoscaler-tolerance). */
export const TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period: a pod's CPU this young may be start-up noise. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay: readiness flapping just after start is ignored. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's usage as the metrics API reported it, in thousandths of the resource's unit. */
export interface PodMetric {
  milliValue: number;
  timestampMs: number;
  windowMs: number;
}

export type PodMetrics = ReadonlyMap<string, PodMetric>;

export interface CalculatorOptions {
  nowMs: number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
}

/** A failure to compute, with Kubernetes' wording (it becomes the HPA's condition message). */
export class ReplicaCalculationError extends Error {}

export interface UtilizationResult {
  replicas: number;
  /** Average usage in percent of the requests of the pods counted. */
  utilization: number;
  /** Average usage per pod counted, in thousandths. */
  rawAverageMilli: number;
}

export interface AverageValueResult {
  replicas: number;
  averageMilli: number;
}

interface PodGroups {
  readyCount: number;
  /** Counted at 0% when the others ask to scale up, else left out. */
  unready: Set<string>;
  /** No metrics: 100% of the request on a scale-down, 0% on a scale-up. */
  missing: Set<string>;
  /** Deleted or failed: left out. */
  ignored: Set<string>;
}

function timeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function groupPods(pods: readonly Pod[], metrics: PodMetrics, resource: string, options: CalculatorOptions): PodGroups {
  const groups: PodGroups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  const initPeriod = options.cpuInitializationPeriodMs ?? CPU_INITIALIZATION_PERIOD_MS;
  const readinessDelay = options.initialReadinessDelayMs ?? INITIAL_READINESS_DELAY_MS;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      groups.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      groups.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      groups.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      // A CPU sample is trusted only from a pod that is ready and was ready for a whole sample
      // window, or, after the initialisation period, from one that has been ready at some point.
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const started = timeOf(pod.status?.startTime);
      const transition = timeOf(ready?.lastTransitionTime) ?? 0;
      let unready: boolean;
      if (!ready || started === undefined) unready = true;
      else if (started + initPeriod > options.nowMs) unready = ready.status === 'False' || metric.timestampMs < transition + metric.windowMs;
      else unready = ready.status === 'False' && started + readinessDelay > transition;
      if (unready) {
        groups.unready.add(name);
        continue;
      }
    }
    groups.readyCount++;
  }
  return groups;
}

/** Each pod's request of `resource` in thousandths (one container's, or every container's). */
function podRequests(pods: readonly Pod[], resource: string, container: string | undefined): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    // Sidecars (restartable init containers) run beside the app and count as its containers.
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
    let sum = 0;
    for (const c of containers) {
      if (container && c.name !== container) continue;
      const raw = c.resources?.requests?.[resource];
      const request = raw === undefined ? undefined : tryParseQuantity(raw);
      if (!request) throw new ReplicaCalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += request.milliValue();
    }
    requests.set(pod.metadata?.name ?? '', sum);
  }
  return requests;
}

function utilizationOf(metrics: ReadonlyMap<string, number>, requests: ReadonlyMap<string, number>): { utilization: number; rawAverageMilli: number } {
  let used = 0;
  let requested = 0;
  let counted = 0;
  for (const [name, value] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    used += value;
    requested += request;
    counted++;
  }
  if (requested === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  // Integer percent, as Kubernetes computes it; the ratio is taken from the rounded value.
  return { utilization: Math.trunc((used * 100) / requested), rawAverageMilli: Math.trunc(used / counted) };
}

function usable(pods: readonly Pod[], metrics: PodMetrics, resource: string, options: CalculatorOptions): { groups: PodGroups; values: Map<string, number> } {
  if (pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const groups = groupPods(pods, metrics, resource, options);
  const values = new Map<string, number>();
  for (const [name, metric] of metrics) if (!groups.ignored.has(name) && !groups.unready.has(name)) values.set(name, metric.milliValue);
  return { groups, values };
}

/**
 * The replicas a Utilization target asks for. `metrics` are the pods' usage as the metrics API
 * reported it (only pods it knows); `pods` are the pods the target's selector picks.
 */
export function utilizationReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: readonly Pod[],
  metrics: PodMetrics,
  options: CalculatorOptions,
  container?: string,
): UtilizationResult {
  const tolerance = options.tolerance ?? TOLERANCE;
  const { groups, values } = usable(pods, metrics, resource, options);
  const requests = podRequests(pods, resource, container);
  if (values.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const { utilization, rawAverageMilli } = utilizationOf(values, requests);
  const ratio = utilization / targetUtilization;
  const result = (replicas: number) => ({ replicas, utilization, rawAverageMilli });

  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return result(currentReplicas);
    return result(Math.ceil(ratio * groups.readyCount));
  }
  for (const name of groups.missing) {
    if (ratio < 1) values.set(name, requests.get(name) ?? 0);
    else if (ratio > 1) values.set(name, 0);
  }
  if (scaleUpWithUnready) for (const name of groups.unready) values.set(name, 0);
  const newRatio = utilizationOf(values, requests).utilization / targetUtilization;
  // Too small a change, or the assumptions turned the direction around: stay.
  if (Math.abs(1 - newRatio) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return result(currentReplicas);
  const replicas = Math.ceil(newRatio * values.size);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

/** The replicas an AverageValue target (thousandths per pod) asks for. */
export function averageValueReplicas(
  currentReplicas: number,
  targetMilli: number,
  resource: string,
  pods: readonly Pod[],
  metrics: PodMetrics,
  options: CalculatorOptions,
): AverageValueResult {
  const tolerance = options.tolerance ?? TOLERANCE;
  const { groups, values } = usable(pods, metrics, resource, options);
  if (values.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const average = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;
  const averageMilli = average(values);
  const ratio = averageMilli / targetMilli;
  const result = (replicas: number) => ({ replicas, averageMilli: Math.trunc(averageMilli) });

  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return result(currentReplicas);
    return result(Math.ceil(ratio * groups.readyCount));
  }
  for (const name of groups.missing) values.set(name, ratio < 1 ? targetMilli : 0);
  if (scaleUpWithUnready) for (const name of groups.unready) values.set(name, 0);
  const newRatio = average(values) / targetMilli;
  if (Math.abs(1 - newRatio) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return result(currentReplicas);
  return result(Math.ceil(newRatio * values.size));
}
