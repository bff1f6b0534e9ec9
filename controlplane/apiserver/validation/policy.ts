// policy/v1 PodDisruptionBudgets (pkg/apis/policy/validation, Kubernetes 1.32). The spec may
// change after creation (policy/v1 made it mutable); status counters are never negative.

import type { PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { FieldPath } from './field-path.js';
import { has } from './json-shapes.js';
import { validateLabelSelector } from './label-selector.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { nonNegative, notMoreThan100Percent, validateIntOrPercent } from './workload.js';

const SPEC = FieldPath.of('spec');
const STATUS = FieldPath.of('status');
const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validateSpec(spec: PodDisruptionBudgetSpec): FieldError[] {
  const errs: FieldError[] = [];
  const isSet = (v: unknown) => v !== undefined && v !== null;
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) {
    errs.push(fieldError.invalid(SPEC.toString(), spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const field of ['minAvailable', 'maxUnavailable'] as const) {
    if (!isSet(spec[field])) continue;
    errs.push(...validateIntOrPercent(spec[field], SPEC.child(field)), ...notMoreThan100Percent(spec[field], SPEC.child(field)));
  }
  errs.push(...validateLabelSelector(spec.selector, SPEC.child('selector')));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (isSet(policy) && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy!)) {
    errs.push(fieldError.notSupported(SPEC.child('unhealthyPodEvictionPolicy').toString(), policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

function specOf(pdb: PodDisruptionBudget): PodDisruptionBudgetSpec {
  return has(pdb.spec) ? pdb.spec : {};
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMeta(metaOf(pdb), { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  errs.push(...validateSpec(specOf(pdb)));
  return errs;
}

export function validatePodDisruptionBudgetUpdate(pdb: PodDisruptionBudget, old: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(pdb), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateSpec(specOf(pdb)));
  return errs;
}

export function validatePodDisruptionBudgetStatusUpdate(pdb: PodDisruptionBudget, old: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(pdb), metaOf(old), { kubeFinalizers: true });
  const status: Partial<PodDisruptionBudgetStatus> = has(pdb.status) ? pdb.status : {};
  for (const field of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
    errs.push(...nonNegative(status[field], STATUS.child(field)));
  }
  return errs;
}
