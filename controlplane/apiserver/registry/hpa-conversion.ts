// autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers are two views of the same stored
// objects, as in Kubernetes. Skiff stores the v2 form; v1 shows a CPU utilization target and
// keeps everything else v2 can say in annotations, so that a v1 client's read-modify-write loses
// nothing (Kubernetes' pkg/apis/autoscaling/v1 conversion; the annotations' names are
// Kubernetes', their content here is the autoscaling/v2 JSON of the same fields).

import type {
  HorizontalPodAutoscaler as HpaV1,
  HorizontalPodAutoscalerSpec as HpaV1Spec,
  HorizontalPodAutoscalerStatus as HpaV1Status,
} from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { KubeObject } from '../../../api/objects.js';
import type { Conversion } from './conversion.js';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ANNOTATIONS = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

/** autoscaling/v1's implicit target when none is given (autoscaling.DefaultCPUUtilization). */
export const DEFAULT_CPU_UTILIZATION = 80;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function cpuUtilizationMetric(percent: number): MetricSpec {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: percent } } };
}

/** The metric v1's targetCPUUtilizationPercentage stands for. */
function isCpuUtilization(metric: MetricSpec): boolean {
  return metric.type === 'Resource' && metric.resource?.name === 'cpu' && typeof metric.resource.target?.averageUtilization === 'number';
}

function parseAnnotation<T>(annotations: Record<string, string>, key: string): T | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A hand-edited annotation that is not JSON: Kubernetes fails the conversion; dropping it
    // keeps the rest of the object readable.
    return undefined;
  }
}

/** The stored (v2) form of a v1 object, with the annotations the v1 form carried folded back in. */
export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const v1 = obj as HpaV1 & KubeObject;
  const annotations: Record<string, string> = { ...v1.metadata?.annotations };
  const otherMetrics = parseAnnotation<MetricSpec[]>(annotations, METRICS_ANNOTATION) ?? [];
  const currentMetrics = parseAnnotation<MetricStatus[]>(annotations, CURRENT_METRICS_ANNOTATION);
  const conditions = parseAnnotation<NonNullable<HpaV2['status']>['conditions']>(annotations, CONDITIONS_ANNOTATION);
  const behavior = parseAnnotation<NonNullable<HpaV2['spec']>['behavior']>(annotations, BEHAVIOR_ANNOTATION);
  for (const key of ANNOTATIONS) delete annotations[key];

  const { targetCPUUtilizationPercentage, ...specRest } = (v1.spec ?? {}) as Partial<HpaV1Spec>;
  const metrics = [...(typeof targetCPUUtilizationPercentage === 'number' ? [cpuUtilizationMetric(targetCPUUtilizationPercentage)] : []), ...otherMetrics];
  // v1 always had a CPU target: the controller used to apply 80% itself.
  if (metrics.length === 0) metrics.push(cpuUtilizationMetric(DEFAULT_CPU_UTILIZATION));
  const spec: Record<string, unknown> = { ...specRest, metrics };
  if (behavior) spec['behavior'] = behavior;

  const out: KubeObject = { ...obj, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec };
  out.metadata = { ...obj.metadata };
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  if (v1.status) {
    const { currentCPUUtilizationPercentage, currentReplicas, ...statusRest } = v1.status as Partial<HpaV1Status>;
    const status: Record<string, unknown> = { ...statusRest };
    // v2's currentReplicas is omitempty: Go leaves a 0 out.
    if (currentReplicas) status['currentReplicas'] = currentReplicas;
    // The annotation says more than the percentage (the raw average value too): it wins.
    if (currentMetrics) status['currentMetrics'] = currentMetrics;
    else if (typeof currentCPUUtilizationPercentage === 'number') {
      status['currentMetrics'] = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: currentCPUUtilizationPercentage } } }];
    }
    if (conditions) status['conditions'] = conditions;
    out['status'] = status;
  }
  return out;
}

/** The autoscaling/v1 view of a stored (v2) object. */
export function hpaV2ToV1(obj: KubeObject): KubeObject {
  const v2 = obj as HpaV2 & KubeObject;
  const annotations: Record<string, string> = { ...v2.metadata?.annotations };
  const { metrics = [], behavior, ...specRest } = (v2.spec ?? {}) as Mutable<NonNullable<HpaV2['spec']>>;
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  const spec: Record<string, unknown> = { ...specRest };
  if (cpu) spec['targetCPUUtilizationPercentage'] = cpu.resource!.target.averageUtilization;
  if (others.length > 0) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  if (behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(behavior);

  const out: KubeObject = { ...obj, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', spec };
  if (v2.status) {
    const { currentMetrics, conditions, currentReplicas, desiredReplicas, ...statusRest } = v2.status as Mutable<NonNullable<HpaV2['status']>>;
    // v1's replica counts are not optional: Go writes 0.
    const status: Record<string, unknown> = { ...statusRest, currentReplicas: currentReplicas ?? 0, desiredReplicas: desiredReplicas ?? 0 };
    const cpuNow = currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && typeof m.resource.current?.averageUtilization === 'number');
    if (cpuNow) status['currentCPUUtilizationPercentage'] = cpuNow.resource!.current.averageUtilization;
    if (currentMetrics && currentMetrics.length > 0) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(currentMetrics);
    if (conditions && conditions.length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
    out['status'] = status;
  }
  out.metadata = { ...obj.metadata };
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  return out;
}

export const hpaV1: Conversion = { fromStorage: hpaV2ToV1, toStorage: hpaV1ToV2 };

/** The v2 form of an HPA in either version (tables and validation read v2). */
export function asHpaV2(obj: KubeObject): KubeObject {
  return obj.apiVersion === 'autoscaling/v1' ? hpaV1ToV2(obj) : obj;
}
