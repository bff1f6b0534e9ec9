// Where a pod may run: tolerations, node and pod affinity, topology spread (core validation
// ValidateTolerations, validateAffinity, validateTopologySpreadConstraints).

import type {
  Affinity,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityTerm,
  Toleration,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
} from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidLabelValue } from '../../../api/names.js';
import type { FieldPath } from './field-path.js';
import { has, items, text } from './json-shapes.js';
import { validateLabelName, validateLabelSelector } from './label-selector.js';

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateTaintEffect(effect: string, allowEmpty: boolean, path: FieldPath): FieldError[] {
  if (!effect) return allowEmpty ? [] : [fieldError.required(path.toString())];
  return TAINT_EFFECTS.includes(effect) ? [] : [fieldError.notSupported(path.toString(), effect, TAINT_EFFECTS)];
}

export function validateTolerations(tolerations: Toleration[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  items(tolerations).forEach((t, i) => {
    const p = path.index(i);
    const key = text(t.key);
    const operator = text(t.operator);
    const value = text(t.value);
    const effect = text(t.effect);
    if (key) errs.push(...validateLabelName(key, p.child('key')));
    if (!key && operator !== 'Exists') {
      errs.push(fieldError.invalid(p.child('operator').toString(), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute') {
      errs.push(fieldError.invalid(p.child('effect').toString(), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (operator) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(value);
        if (msgs.length > 0) errs.push(fieldError.invalid(p.child('operator').toString(), value, msgs.join(';')));
        break;
      }
      case 'Exists':
        if (value) errs.push(fieldError.invalid(p.child('operator').toString(), value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(fieldError.notSupported(p.child('operator').toString(), operator, ['Equal', 'Exists']));
    }
    errs.push(...validateTaintEffect(effect, true, p.child('effect')));
  });
  return errs;
}

function validateNodeSelectorRequirement(req: NodeSelectorRequirement, path: FieldPath, allowInvalidValues: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const values = items(req.values);
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(fieldError.required(path.child('values').toString(), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(fieldError.forbidden(path.child('values').toString(), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(fieldError.required(path.child('values').toString(), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(fieldError.invalid(path.child('operator').toString(), req.operator, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(text(req.key), path.child('key')));
  if (!allowInvalidValues) {
    values.forEach((v, i) => errs.push(...isValidLabelValue(text(v)).map((msg) => fieldError.invalid(path.child('values').index(i).toString(), v, msg))));
  }
  return errs;
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, path: FieldPath, allowInvalidValues: boolean): FieldError[] {
  const errs: FieldError[] = [];
  items(term.matchExpressions).forEach((req, i) => errs.push(...validateNodeSelectorRequirement(req, path.child('matchExpressions').index(i), allowInvalidValues)));
  items(term.matchFields).forEach((req, i) => {
    const p = path.child('matchFields').index(i);
    if (req.operator !== 'In' && req.operator !== 'NotIn') {
      errs.push(fieldError.invalid(p.child('operator').toString(), req.operator, 'not a valid selector operator'));
    } else if (items(req.values).length !== 1) {
      errs.push(fieldError.required(p.child('values').toString(), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    }
    if (req.key !== 'metadata.name') errs.push(fieldError.invalid(p.child('key').toString(), req.key, 'not a valid field selector key'));
    else {
      items(req.values).forEach((v, j) =>
        errs.push(...isDNS1123Subdomain(text(v)).map((msg) => fieldError.invalid(p.child('values').index(j).toString(), v, msg))),
      );
    }
  });
  return errs;
}

export function validateNodeSelector(selector: NodeSelector, path: FieldPath): FieldError[] {
  const terms = items(selector.nodeSelectorTerms);
  const termsPath = path.child('nodeSelectorTerms');
  if (terms.length === 0) return [fieldError.required(termsPath.toString(), 'must have at least one node selector term')];
  return terms.flatMap((term, i) => validateNodeSelectorTerm(term, termsPath.index(i), false));
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs = validateLabelSelector(term.labelSelector, path.child('labelSelector'));
  errs.push(...validateLabelSelector(term.namespaceSelector, path.child('namespaceSelector')));
  for (const ns of items(term.namespaces)) errs.push(...isDNS1123Label(text(ns)).map((msg) => fieldError.invalid(path.child('namespace').toString(), ns, msg)));
  const topologyKey = text(term.topologyKey);
  if (!topologyKey) errs.push(fieldError.required(path.child('topologyKey').toString(), 'can not be empty'));
  return [...errs, ...validateLabelName(topologyKey, path.child('topologyKey'))];
}

function validateWeighted(terms: WeightedPodAffinityTerm[] | undefined, path: FieldPath): FieldError[] {
  return items(terms).flatMap((t, i) => {
    const p = path.index(i);
    const errs: FieldError[] = [];
    if (!(t.weight > 0 && t.weight <= 100)) errs.push(fieldError.invalid(p.child('weight').toString(), t.weight, 'must be in the range 1-100'));
    return [...errs, ...validatePodAffinityTerm(t.podAffinityTerm ?? ({} as PodAffinityTerm), p.child('podAffinityTerm'))];
  });
}

export function validateAffinity(affinity: Affinity | undefined, path: FieldPath): FieldError[] {
  if (!has(affinity)) return [];
  const errs: FieldError[] = [];
  const na = affinity.nodeAffinity;
  if (has(na)) {
    const p = path.child('nodeAffinity');
    if (has(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, p.child('requiredDuringSchedulingIgnoredDuringExecution')));
    }
    items(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const tp = p.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (!(t.weight > 0 && t.weight <= 100)) errs.push(fieldError.invalid(tp.child('weight').toString(), t.weight, 'must be in the range 1-100'));
      // Preferred terms tolerate invalid label values: they can still match on a single-node cluster.
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, tp.child('preference'), true));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = affinity[kind];
    if (!has(pa)) continue;
    const p = path.child(kind);
    items(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) =>
      errs.push(...validatePodAffinityTerm(t, p.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))),
    );
    errs.push(...validateWeighted(pa.preferredDuringSchedulingIgnoredDuringExecution, p.child('preferredDuringSchedulingIgnoredDuringExecution')));
  }
  return errs;
}

export function validateTopologySpreadConstraints(constraints: TopologySpreadConstraint[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = items(constraints);
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!(c.maxSkew > 0)) errs.push(fieldError.invalid(p.child('maxSkew').toString(), c.maxSkew, 'must be greater than zero'));
    if (!text(c.topologyKey)) errs.push(fieldError.required(p.child('topologyKey').toString(), 'can not be empty'));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(fieldError.notSupported(p.child('whenUnsatisfiable').toString(), c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (list.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable)) {
      errs.push(fieldError.duplicate(p.child('{topologyKey, whenUnsatisfiable}').toString(), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    }
    if (c.minDomains !== undefined && c.minDomains !== null) {
      if (!(c.minDomains > 0)) errs.push(fieldError.invalid(p.child('minDomains').toString(), c.minDomains, 'must be greater than zero'));
      if (c.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(fieldError.invalid(p.child('minDomains').toString(), c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${c.whenUnsatisfiable}`));
      }
    }
    errs.push(...validateLabelSelector(c.labelSelector, p.child('labelSelector')));
  });
  return errs;
}
