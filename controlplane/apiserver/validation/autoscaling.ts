// autoscaling HorizontalPodAutoscalers (pkg/apis/autoscaling/validation, Kubernetes 1.32),
// checked in their autoscaling/v2 form whichever version was written, as Kubernetes validates
// the internal type: an autoscaling/v1 target of 0% is reported at
// spec.metrics[0].resource.target.averageUtilization.

import type {
  CrossVersionObjectReference,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerBehavior,
  HorizontalPodAutoscalerSpec,
  HPAScalingRules,
  MetricIdentifier,
  MetricSpec,
  MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label } from '../../../api/names.js';
import { FieldPath } from './field-path.js';
import { isInteger, isValidPathSegmentName } from './formats.js';
import { has, isRecord, items, text } from './json-shapes.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { parseQuantity } from './quantity.js';

const SPEC = FieldPath.of('spec');
/** The HPAScaleToZero feature gate is off: at least one replica. */
const MIN_REPLICAS_LOWER_BOUND = 1;
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];

type Hpa = HorizontalPodAutoscaler;

function specOf(hpa: Hpa): HorizontalPodAutoscalerSpec {
  return has(hpa.spec) ? hpa.spec : ({} as HorizontalPodAutoscalerSpec);
}

function pathSegment(value: string, path: FieldPath): FieldError[] {
  return isValidPathSegmentName(value, false).map((msg) => fieldError.invalid(path.toString(), value, msg));
}

export function validateCrossVersionObjectReference(ref: CrossVersionObjectReference | undefined, path: FieldPath): FieldError[] {
  const r = has(ref) ? ref : ({} as CrossVersionObjectReference);
  const errs: FieldError[] = [];
  for (const field of ['kind', 'name'] as const) {
    const value = text(r[field]);
    if (!value) errs.push(fieldError.required(path.child(field).toString()));
    else errs.push(...pathSegment(value, path.child(field)));
  }
  return errs;
}

/** A Quantity that must be above zero; a malformed one is reported with its parse error. */
function positiveQuantity(raw: unknown, path: FieldPath): FieldError[] {
  const q = parseQuantity(raw);
  if (typeof q === 'string') return [fieldError.invalid(path.toString(), raw, q)];
  return q.sign() === 1 ? [] : [fieldError.invalid(path.toString(), raw, 'must be positive')];
}

function validateMetricTarget(target: MetricTarget | undefined, path: FieldPath): FieldError[] {
  const t = has(target) ? target : ({} as MetricTarget);
  const errs: FieldError[] = [];
  const type = text(t.type);
  if (!type) errs.push(fieldError.required(path.child('type').toString(), 'must specify a metric target type'));
  if (!TARGET_TYPES.includes(type)) errs.push(fieldError.invalid(path.child('type').toString(), type, 'must be either Utilization, Value, or AverageValue'));
  if (t.value !== undefined && t.value !== null) errs.push(...positiveQuantity(t.value, path.child('value')));
  if (t.averageValue !== undefined && t.averageValue !== null) errs.push(...positiveQuantity(t.averageValue, path.child('averageValue')));
  if (t.averageUtilization !== undefined && t.averageUtilization !== null && (!isInteger(t.averageUtilization) || t.averageUtilization < 1)) {
    errs.push(fieldError.invalid(path.child('averageUtilization').toString(), t.averageUtilization, 'must be greater than 0'));
  }
  return errs;
}

function validateMetricIdentifier(id: MetricIdentifier | undefined, path: FieldPath): FieldError[] {
  const name = text(has(id) ? id.name : undefined);
  if (!name) return [fieldError.required(path.child('name').toString(), 'must specify a metric name')];
  return pathSegment(name, path.child('name'));
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Resource and ContainerResource: a utilization or an average value, not both. */
function resourceTarget(target: MetricTarget | undefined, path: FieldPath): FieldError[] {
  const t = has(target) ? target : ({} as MetricTarget);
  const errs = validateMetricTarget(target, path);
  if (!isSet(t.averageUtilization) && !isSet(t.averageValue)) {
    errs.push(fieldError.required(path.child('averageUtilization').toString(), 'must set either a target raw value or a target utilization'));
  }
  if (isSet(t.averageUtilization) && isSet(t.averageValue)) {
    errs.push(fieldError.forbidden(path.child('averageValue').toString(), 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function targetOf(src: Record<string, unknown>): MetricTarget {
  return (isRecord(src['target']) ? src['target'] : {}) as unknown as MetricTarget;
}

/** The checks of the one source a metric names (`object`, `pods`...), keyed by its field. */
const SOURCE_CHECKS: Record<string, (src: Record<string, unknown>, path: FieldPath) => FieldError[]> = {
  object: (src, path) => {
    const target = targetOf(src);
    const errs = [
      ...validateCrossVersionObjectReference(src['describedObject'] as CrossVersionObjectReference, path.child('describedObject')),
      ...validateMetricIdentifier(src['metric'] as MetricIdentifier, path.child('metric')),
      ...validateMetricTarget(target, path.child('target')),
    ];
    if (!isSet(target.value) && !isSet(target.averageValue)) {
      errs.push(fieldError.required(path.child('target', 'averageValue').toString(), 'must set either a target value or averageValue'));
    }
    return errs;
  },
  external: (src, path) => {
    const target = targetOf(src);
    const errs = [...validateMetricIdentifier(src['metric'] as MetricIdentifier, path.child('metric')), ...validateMetricTarget(target, path.child('target'))];
    if (!isSet(target.value) && !isSet(target.averageValue)) {
      errs.push(fieldError.required(path.child('target', 'averageValue').toString(), 'must set either a target value for metric or a per-pod target'));
    }
    if (isSet(target.value) && isSet(target.averageValue)) {
      errs.push(fieldError.forbidden(path.child('target', 'value').toString(), 'may not set both a target value for metric and a per-pod target'));
    }
    return errs;
  },
  pods: (src, path) => {
    const target = targetOf(src);
    const errs = [...validateMetricIdentifier(src['metric'] as MetricIdentifier, path.child('metric')), ...validateMetricTarget(target, path.child('target'))];
    if (!isSet(target.averageValue)) {
      errs.push(fieldError.required(path.child('target', 'averageValue').toString(), 'must specify a positive target averageValue'));
    }
    return errs;
  },
  resource: (src, path) => {
    const errs: FieldError[] = [];
    if (!text(src['name'])) errs.push(fieldError.required(path.child('name').toString(), 'must specify a resource name'));
    errs.push(...resourceTarget(src['target'] as MetricTarget, path.child('target')));
    return errs;
  },
  containerResource: (src, path) => {
    const errs: FieldError[] = [];
    if (!text(src['name'])) errs.push(fieldError.required(path.child('name').toString(), 'must specify a resource name'));
    const container = text(src['container']);
    if (!container) errs.push(fieldError.required(path.child('container').toString(), 'must specify a container'));
    else for (const msg of isDNS1123Label(container)) errs.push(fieldError.invalid(path.child('container').toString(), container, msg));
    errs.push(...resourceTarget(src['target'] as MetricTarget, path.child('target')));
    return errs;
  },
};

/** The field of MetricSpec that holds the source of each type. */
const SOURCE_FIELD: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' };

function validateMetricSpec(metric: MetricSpec, path: FieldPath): FieldError[] {
  const m = metric as unknown as Record<string, unknown>;
  const errs: FieldError[] = [];
  const type = text(m['type']);
  if (!type) errs.push(fieldError.required(path.child('type').toString(), 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(type)) errs.push(fieldError.notSupported(path.child('type').toString(), type, METRIC_SOURCE_TYPES));
  // Only the first source present is checked further; the others are refused below.
  const present = Object.keys(SOURCE_CHECKS).filter((field) => isSet(m[field]));
  const first = present[0];
  if (first) errs.push(...SOURCE_CHECKS[first]!((isRecord(m[first]) ? m[first] : {}) as Record<string, unknown>, path.child(first)));
  const expected = SOURCE_FIELD[type];
  if (expected && !isSet(m[expected])) errs.push(fieldError.required(path.child(expected).toString(), 'must populate information for the given metric source'));
  if (present.length > 1) {
    for (const field of present) if (field !== expected) errs.push(fieldError.forbidden(path.child(field).toString(), 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: HPAScalingRules | undefined, path: FieldPath): FieldError[] {
  if (!has(rules)) return [];
  const errs: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  const windowPath = path.child('stabilizationWindowSeconds').toString();
  if (isSet(window) && window! < 0) errs.push(fieldError.invalid(windowPath, window, 'must be greater than or equal to zero'));
  if (isSet(window) && window! > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(fieldError.invalid(windowPath, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (isSet(rules.selectPolicy) && !SELECT_POLICIES.includes(text(rules.selectPolicy))) {
    errs.push(fieldError.notSupported(path.child('selectPolicy').toString(), rules.selectPolicy, SELECT_POLICIES));
  }
  const policies = items(rules.policies);
  if (policies.length === 0) errs.push(fieldError.required(path.child('policies').toString(), 'must specify at least one Policy'));
  policies.forEach((policy, i) => {
    const at = path.child('policies').index(i);
    if (!POLICY_TYPES.includes(text(policy.type))) errs.push(fieldError.notSupported(at.child('type').toString(), policy.type ?? '', POLICY_TYPES));
    if (!(policy.value > 0)) errs.push(fieldError.invalid(at.child('value').toString(), policy.value ?? 0, 'must be greater than zero'));
    if (!(policy.periodSeconds > 0)) errs.push(fieldError.invalid(at.child('periodSeconds').toString(), policy.periodSeconds ?? 0, 'must be greater than zero'));
    if (policy.periodSeconds > MAX_PERIOD_SECONDS) {
      errs.push(fieldError.invalid(at.child('periodSeconds').toString(), policy.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
    }
  });
  return errs;
}

function validateBehavior(behavior: HorizontalPodAutoscalerBehavior | undefined, path: FieldPath): FieldError[] {
  if (!has(behavior)) return [];
  return [...validateScalingRules(behavior.scaleUp, path.child('scaleUp')), ...validateScalingRules(behavior.scaleDown, path.child('scaleDown'))];
}

function validateSpec(spec: HorizontalPodAutoscalerSpec): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (isSet(min) && min! < MIN_REPLICAS_LOWER_BOUND) {
    errs.push(fieldError.invalid(SPEC.child('minReplicas').toString(), min, `must be greater than or equal to ${MIN_REPLICAS_LOWER_BOUND}`));
  }
  if (!(max >= 1)) errs.push(fieldError.invalid(SPEC.child('maxReplicas').toString(), max ?? 0, 'must be greater than 0'));
  if (isSet(min) && max < min!) errs.push(fieldError.invalid(SPEC.child('maxReplicas').toString(), max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, SPEC.child('scaleTargetRef')));
  items(spec.metrics).forEach((metric, i) => errs.push(...validateMetricSpec(metric, SPEC.child('metrics').index(i))));
  errs.push(...validateBehavior(spec.behavior, SPEC.child('behavior')));
  return errs;
}

export function validateHorizontalPodAutoscaler(hpa: Hpa): FieldError[] {
  const errs = validateObjectMeta(metaOf(hpa), { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  errs.push(...validateSpec(specOf(hpa)));
  return errs;
}

export function validateHorizontalPodAutoscalerUpdate(hpa: Hpa, old: Hpa): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(hpa), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateSpec(specOf(hpa)));
  return errs;
}

export function validateHorizontalPodAutoscalerStatusUpdate(hpa: Hpa, old: Hpa): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(hpa), metaOf(old), { kubeFinalizers: true });
  const status: NonNullable<Hpa['status']> = has(hpa.status) ? hpa.status : { desiredReplicas: 0 };
  for (const field of ['currentReplicas', 'desiredReplicas'] as const) {
    const value = status[field];
    if (typeof value === 'number' && value < 0) errs.push(fieldError.invalid(`status.${field}`, value, 'must be greater than or equal to 0'));
  }
  return errs;
}
