// Defaults for HorizontalPodAutoscalers (autoscaling/v2 and autoscaling/v1 defaults.go). v2
// fills in a behavior only when one was given: an HPA without one keeps Kubernetes' older
// built-in scaling rules (see controlplane/controllers/podautoscaler).

import { DEFAULT_CPU_UTILIZATION, METRICS_ANNOTATION } from '../registry/hpa-conversion.js';
import { formatQuantity, parseQuantity } from '../validation/quantity.js';
import { child, isObject, objectsIn } from './values.js';

/** What a given scaleUp / scaleDown leaves unset comes from these (autoscaling/v2 defaults.go). */
const SCALE_UP_RULES = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
/** No stabilizationWindowSeconds: the controller's own window (300 s) applies. */
const SCALE_DOWN_RULES = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function defaultMinReplicas(spec: Record<string, unknown>): void {
  if (spec['minReplicas'] === undefined || spec['minReplicas'] === null) spec['minReplicas'] = 1;
}

function fillRules(given: unknown, defaults: Record<string, unknown>): Record<string, unknown> {
  const rules: Record<string, unknown> = structuredClone(defaults);
  if (!isObject(given)) return rules;
  for (const [key, value] of Object.entries(given)) if (value !== undefined && value !== null) rules[key] = value;
  return rules;
}

/** Quantities are stored in canonical form, as Go writes back what it decoded (`0.5` → `500m`). */
function canonicalizeTarget(target: unknown): void {
  if (!isObject(target)) return;
  for (const key of ['value', 'averageValue']) {
    const q = target[key] === undefined ? undefined : parseQuantity(target[key]);
    if (q !== undefined && typeof q !== 'string') target[key] = formatQuantity(q);
  }
}

export function defaultHorizontalPodAutoscaler(hpa: Record<string, unknown>): void {
  if (hpa['apiVersion'] === 'autoscaling/v1') return defaultHorizontalPodAutoscalerV1(hpa);
  const spec = child(hpa, 'spec');
  defaultMinReplicas(spec);
  if (!Array.isArray(spec['metrics']) || spec['metrics'].length === 0) {
    spec['metrics'] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  for (const metric of objectsIn(spec['metrics'])) {
    for (const source of ['resource', 'containerResource', 'pods', 'object', 'external']) {
      if (isObject(metric[source])) canonicalizeTarget(metric[source]['target']);
    }
  }
  const behavior = spec['behavior'];
  if (isObject(behavior)) {
    behavior['scaleUp'] = fillRules(behavior['scaleUp'], SCALE_UP_RULES);
    behavior['scaleDown'] = fillRules(behavior['scaleDown'], SCALE_DOWN_RULES);
  }
}

/**
 * autoscaling/v1 defaults minReplicas only; the 80% CPU target of an HPA without one comes from
 * the conversion to the stored form, and is shown here so that the response to a create reads
 * as the stored object will.
 */
function defaultHorizontalPodAutoscalerV1(hpa: Record<string, unknown>): void {
  const spec = child(hpa, 'spec');
  defaultMinReplicas(spec);
  const annotations = isObject(hpa['metadata']) ? hpa['metadata']['annotations'] : undefined;
  const otherMetrics = isObject(annotations) && annotations[METRICS_ANNOTATION] !== undefined;
  const target = spec['targetCPUUtilizationPercentage'];
  if ((target === undefined || target === null) && !otherMetrics) spec['targetCPUUtilizationPercentage'] = DEFAULT_CPU_UTILIZATION;
}
