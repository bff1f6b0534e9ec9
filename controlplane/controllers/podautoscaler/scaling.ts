// From the replicas the metrics ask for to the replicas the HPA sets (horizontal.go's
// normalizeDesiredReplicas*, 1.32): the recommendations of the stabilization window (the
// highest one of the last 300 s before scaling down, by default), the scaling policies of
// spec.behavior (by default: up by 4 pods or 100% per 15 s, whichever is more; down by 100% per
// 15 s) and the min/max bounds, with the AbleToScale and ScalingLimited conditions that explain
// the outcome. An HPA without spec.behavior gets Kubernetes' older rules: the same scale-down
// window, and up to max(2 × current, 4) per sync. The history is in memory, per HPA, as in
// kube-controller-manager (a new leader starts without it).

import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2.js';

/** --horizontal-pod-autoscaler-downscale-stabilization. */
export const DOWNSCALE_STABILIZATION_WINDOW_MS = 5 * 60_000;

export interface ConditionChange {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  conditions: ConditionChange[];
}

interface Recommendation {
  replicas: number;
  atMs: number;
}

interface ScaleEvent {
  change: number;
  atMs: number;
  outdated: boolean;
}

export interface NormalizeInput {
  key: string;
  currentReplicas: number;
  /** What the metrics ask for. */
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: HorizontalPodAutoscalerBehavior | undefined;
}

const SCALE_UP_STABILIZED = 'recent recommendations were lower than current one, applying the lowest recent recommendation';
const SCALE_DOWN_STABILIZED = 'recent recommendations were higher than current one, applying the highest recent recommendation';
const WITHIN_RANGE = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };

/** Per-HPA memory of recent recommendations and scale changes. */
export class ScalingHistory {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleUps = new Map<string, ScaleEvent[]>();
  private readonly scaleDowns = new Map<string, ScaleEvent[]>();

  constructor(
    private readonly now: () => number,
    private readonly downscaleWindowMs = DOWNSCALE_STABILIZATION_WINDOW_MS,
  ) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUps.delete(key);
    this.scaleDowns.delete(key);
  }

  /** The target's size when the HPA was first seen counts as a recommendation. */
  recordInitial(key: string, currentReplicas: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ replicas: currentReplicas, atMs: this.now() }]);
  }

  normalize(input: NormalizeInput): Normalized {
    return input.behavior ? this.withBehavior(input, input.behavior) : this.legacy(input);
  }

  /** Remembers a rescale for the policies' periods (only HPAs with a behavior use them). */
  recordScale(key: string, behavior: HorizontalPodAutoscalerBehavior | undefined, from: number, to: number): void {
    if (!behavior) return;
    const up = to > from;
    const events = up ? this.scaleUps : this.scaleDowns;
    const list = events.get(key) ?? [];
    const cutoff = this.now() - longestPeriodSeconds(up ? behavior.scaleUp : behavior.scaleDown) * 1000;
    for (const e of list) if (e.atMs < cutoff) e.outdated = true;
    const event: ScaleEvent = { change: Math.abs(to - from), atMs: this.now(), outdated: false };
    const reuse = list.findLastIndex((e) => e.outdated);
    if (reuse >= 0) list[reuse] = event;
    else list.push(event);
    events.set(key, list);
  }

  /** Remembers `replicas`, replacing a sample older than `obsoleteMs`; returns the samples newer than `windowMs`. */
  private remember(key: string, replicas: number, windowMs: number, obsoleteMs: number): number[] {
    const now = this.now();
    const list = this.recommendations.get(key) ?? [];
    const recent = list.filter((r) => r.atMs > now - windowMs).map((r) => r.replicas);
    const old = list.findLastIndex((r) => r.atMs < now - obsoleteMs);
    if (old >= 0) list[old] = { replicas, atMs: now };
    else list.push({ replicas, atMs: now });
    this.recommendations.set(key, list);
    return recent;
  }

  private legacy(input: NormalizeInput): Normalized {
    const recent = this.remember(input.key, input.desiredReplicas, this.downscaleWindowMs, this.downscaleWindowMs);
    const stabilized = Math.max(input.desiredReplicas, ...recent);
    const conditions: ConditionChange[] = [
      stabilized !== input.desiredReplicas
        ? { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: SCALE_DOWN_STABILIZED }
        : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
    ];
    // A bogus usage report must not multiply the replicas in one go (kubernetes#32304).
    const scaleUpLimit = Math.max(2 * input.currentReplicas, 4);
    const [maximum, maxWhy] = input.maxReplicas > scaleUpLimit ? [scaleUpLimit, UP_LIMIT] : [input.maxReplicas, TOO_MANY];
    let replicas = stabilized;
    let why = WITHIN_RANGE;
    if (stabilized < input.minReplicas) [replicas, why] = [input.minReplicas, TOO_FEW];
    else if (stabilized > maximum) [replicas, why] = [maximum, maxWhy];
    conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', ...why });
    return { replicas, conditions };
  }

  private withBehavior(input: NormalizeInput, behavior: HorizontalPodAutoscalerBehavior): Normalized {
    const upWindowMs = (behavior.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const downWindowMs = behavior.scaleDown?.stabilizationWindowSeconds === undefined ? this.downscaleWindowMs : behavior.scaleDown.stabilizationWindowSeconds * 1000;
    const scalingUp = input.desiredReplicas >= input.currentReplicas;
    const recent = this.remember(input.key, input.desiredReplicas, scalingUp ? upWindowMs : downWindowMs, Math.max(upWindowMs, downWindowMs));
    // Up: the lowest recent recommendation; down: the highest.
    const stabilized = scalingUp ? Math.min(input.desiredReplicas, ...recent) : Math.max(input.desiredReplicas, ...recent);
    const conditions: ConditionChange[] = [
      stabilized !== input.desiredReplicas
        ? { type: 'AbleToScale', status: 'True', reason: scalingUp ? 'ScaleUpStabilized' : 'ScaleDownStabilized', message: scalingUp ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED }
        : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
    ];
    let replicas = stabilized;
    let why = WITHIN_RANGE;
    if (stabilized > input.currentReplicas) {
      const limit = Math.max(input.currentReplicas, this.scaleUpLimit(input.key, input.currentReplicas, behavior.scaleUp));
      const [maximum, maxWhy] = input.maxReplicas > limit ? [limit, UP_LIMIT] : [input.maxReplicas, TOO_MANY];
      if (stabilized > maximum) [replicas, why] = [maximum, maxWhy];
    } else if (stabilized < input.currentReplicas) {
      const limit = Math.min(input.currentReplicas, this.scaleDownLimit(input.key, input.currentReplicas, behavior.scaleDown));
      const [minimum, minWhy] = input.minReplicas < limit ? [limit, DOWN_LIMIT] : [input.minReplicas, TOO_FEW];
      if (stabilized < minimum) [replicas, why] = [minimum, minWhy];
    }
    conditions.push({ type: 'ScalingLimited', status: replicas === stabilized ? 'False' : 'True', ...why });
    return { replicas, conditions };
  }

  /** Replicas added (or removed) within the last `periodSeconds`. */
  private changedWithin(events: readonly ScaleEvent[] | undefined, periodSeconds: number): number {
    const cutoff = this.now() - periodSeconds * 1000;
    return (events ?? []).filter((e) => e.atMs > cutoff).reduce((sum, e) => sum + e.change, 0);
  }

  /** The most the policies allow now; each policy counts from the size at the start of its period. */
  private scaleUpLimit(key: string, current: number, rules: HPAScalingRules | undefined): number {
    const select = rules?.selectPolicy ?? 'Max';
    if (select === 'Disabled') return current;
    let result: number | undefined;
    for (const policy of rules?.policies ?? []) {
      const start = current - this.changedWithin(this.scaleUps.get(key), policy.periodSeconds);
      // Rounded up, so that a small percentage still adds a pod.
      const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
      result = result === undefined ? proposed : select === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
    }
    return result ?? current;
  }

  private scaleDownLimit(key: string, current: number, rules: HPAScalingRules | undefined): number {
    const select = rules?.selectPolicy ?? 'Max';
    if (select === 'Disabled') return current;
    let result: number | undefined;
    for (const policy of rules?.policies ?? []) {
      const start = current + this.changedWithin(this.scaleDowns.get(key), policy.periodSeconds);
      const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
      // Scaling down, the largest change (Max) is the lowest count.
      result = result === undefined ? proposed : select === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result ?? current;
  }
}

function longestPeriodSeconds(rules: HPAScalingRules | undefined): number {
  return Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds));
}
