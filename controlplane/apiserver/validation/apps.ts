// apps/v1 workloads (apps validation): Deployment, ReplicaSet, DaemonSet, StatefulSet and
// ControllerRevision. In apps/v1 the selector is required and may not change after creation.

import type {
  ControllerRevision,
  DaemonSet,
  DaemonSetUpdateStrategy,
  Deployment,
  DeploymentStrategy,
  ReplicaSet,
  StatefulSet,
  StatefulSetSpec,
} from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { FieldPath } from './field-path.js';
import { has, jsonEqual, text } from './json-shapes.js';
import { isEmptySelector, selectorIsMalformed, validateLabelSelector, validateLabels } from './label-selector.js';
import { dnsLabelName, dnsSubdomainName, metaOf, validateAnnotations, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { validatePodSpecificAnnotations, validatePodTemplateSpec } from './podspec.js';
import {
  collisionCountDecremented,
  intOrPercentValue,
  nonNegative,
  notMoreThan100Percent,
  selectorMismatch,
  validateIntOrPercent,
  validateReplicaCounters,
} from './workload.js';

const SPEC = FieldPath.of('spec');
const STATUS = FieldPath.of('status');
const meta = (nameRule = dnsSubdomainName) => ({ namespaced: true, nameRule, kubeFinalizers: true });

interface WorkloadSpec {
  selector?: LabelSelector;
  template?: PodTemplateSpec;
}

function specOf<T extends object>(obj: { spec?: T }): T {
  return has(obj.spec) ? obj.spec : ({} as T);
}

function requiredSelector(spec: WorkloadSpec, kind: string): FieldError[] {
  if (!has(spec.selector)) return [fieldError.required(SPEC.child('selector').toString())];
  const errs = validateLabelSelector(spec.selector, SPEC.child('selector'));
  if (isEmptySelector(spec.selector)) errs.push(fieldError.invalid(SPEC.child('selector').toString(), spec.selector, `empty selector is invalid for ${kind}`));
  return errs;
}

function restartAlwaysOnly(template: PodTemplateSpec | undefined, kind: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const restartPolicy = text(template?.spec?.restartPolicy);
  if (restartPolicy !== 'Always') errs.push(fieldError.notSupported(path.child('spec', 'restartPolicy').toString(), restartPolicy, ['Always']));
  const ads = template?.spec?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    errs.push(fieldError.forbidden(path.child('spec', 'activeDeadlineSeconds').toString(), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** ValidatePodTemplateSpecForReplicaSet: used by ReplicaSets and Deployments. */
function validateReplicaSetTemplate(spec: WorkloadSpec): FieldError[] {
  const path = SPEC.child('template');
  if (selectorIsMalformed(spec.selector, SPEC.child('selector'))) {
    return [fieldError.invalid(SPEC.child('selector').toString(), spec.selector, 'invalid label selector')];
  }
  return [...selectorMismatch(spec.selector, spec.template, path), ...validatePodTemplateSpec(spec.template, path), ...restartAlwaysOnly(spec.template, 'ReplicaSet', path)];
}

function selectorImmutable(spec: WorkloadSpec, oldSpec: WorkloadSpec): FieldError[] {
  return jsonEqual(spec.selector, oldSpec.selector) ? [] : [fieldError.immutable(SPEC.child('selector').toString(), spec.selector ?? null)];
}

// ---- Deployment ---------------------------------------------------------------------------------

function validateDeploymentStrategy(strategy: DeploymentStrategy | undefined): FieldError[] {
  const path = SPEC.child('strategy');
  const s: DeploymentStrategy = has(strategy) ? strategy : {};
  switch (s.type) {
    case 'Recreate':
      return has(s.rollingUpdate) ? [fieldError.forbidden(path.child('rollingUpdate').toString(), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!has(ru)) return [fieldError.required(path.child('rollingUpdate').toString(), 'this should be defaulted and never be nil')];
      const p = path.child('rollingUpdate');
      const errs = [...validateIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable')), ...validateIntOrPercent(ru.maxSurge, p.child('maxSurge'))];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        // Both zero would let a rollout neither add nor remove a pod.
        errs.push(fieldError.invalid(p.child('maxUnavailable').toString(), ru.maxUnavailable ?? null, 'may not be 0 when `maxSurge` is 0'));
      }
      return [...errs, ...notMoreThan100Percent(ru.maxUnavailable, p.child('maxUnavailable'))];
    }
    default:
      return [fieldError.notSupported(path.toString(), s, ['Recreate', 'RollingUpdate'])];
  }
}

function validateDeploymentSpec(d: Deployment): FieldError[] {
  const spec = specOf(d);
  const errs = nonNegative(spec.replicas, SPEC.child('replicas'));
  errs.push(...requiredSelector(spec, 'deployment'));
  errs.push(...validateReplicaSetTemplate(spec));
  errs.push(...validateDeploymentStrategy(spec.strategy));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')));
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child('revisionHistoryLimit')));
  const pds = spec.progressDeadlineSeconds;
  if (typeof pds === 'number') {
    errs.push(...nonNegative(pds, SPEC.child('progressDeadlineSeconds')));
    if (pds <= (spec.minReadySeconds ?? 0)) errs.push(fieldError.invalid(SPEC.child('progressDeadlineSeconds').toString(), pds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(metaOf(d), meta()), ...validateDeploymentSpec(d)];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(d), metaOf(old), { kubeFinalizers: true }), ...validateDeploymentSpec(d), ...selectorImmutable(specOf(d), specOf(old))];
}

export function validateDeploymentStatusUpdate(d: Deployment, old: Deployment): FieldError[] {
  const status = (has(d.status) ? d.status : {}) as Record<string, unknown>;
  const errs = validateObjectMetaUpdate(metaOf(d), metaOf(old), { kubeFinalizers: true });
  errs.push(
    ...validateReplicaCounters(
      status,
      STATUS,
      ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'],
      ['updatedReplicas', 'readyReplicas', 'availableReplicas'],
    ),
  );
  errs.push(...availableNotAboveReady(status, 'cannot be greater than readyReplicas'));
  return [...errs, ...collisionCountDecremented(status['collisionCount'], old.status?.collisionCount, STATUS.child('collisionCount'))];
}

function availableNotAboveReady(status: Record<string, unknown>, message: string): FieldError[] {
  const available = status['availableReplicas'];
  const ready = typeof status['readyReplicas'] === 'number' ? status['readyReplicas'] : 0;
  return typeof available === 'number' && available > ready ? [fieldError.invalid(STATUS.child('availableReplicas').toString(), available, message)] : [];
}

// ---- ReplicaSet ---------------------------------------------------------------------------------

function validateReplicaSetSpec(rs: ReplicaSet): FieldError[] {
  const spec = specOf(rs);
  const errs = nonNegative(spec.replicas, SPEC.child('replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')));
  // Kubernetes' message names deployments here too.
  errs.push(...requiredSelector(spec, 'deployment'));
  return [...errs, ...validateReplicaSetTemplate(spec)];
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [...validateObjectMeta(metaOf(rs), meta()), ...validateReplicaSetSpec(rs)];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(rs), metaOf(old), { kubeFinalizers: true }), ...validateReplicaSetSpec(rs), ...selectorImmutable(specOf(rs), specOf(old))];
}

export function validateReplicaSetStatusUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  const status = (has(rs.status) ? rs.status : {}) as Record<string, unknown>;
  const errs = validateObjectMetaUpdate(metaOf(rs), metaOf(old), { kubeFinalizers: true });
  errs.push(
    ...validateReplicaCounters(
      status,
      STATUS,
      ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'],
      ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
    ),
  );
  return [...errs, ...availableNotAboveReady(status, 'cannot be greater than readyReplicas')];
}

// ---- DaemonSet ----------------------------------------------------------------------------------

function validateDaemonSetStrategy(strategy: DaemonSetUpdateStrategy | undefined): FieldError[] {
  const path = SPEC.child('updateStrategy');
  const s: DaemonSetUpdateStrategy = has(strategy) ? strategy : {};
  if (s.type === 'OnDelete') return [];
  if (s.type !== 'RollingUpdate') return [fieldError.notSupported(path.toString(), s, ['RollingUpdate', 'OnDelete'])];
  const ru = s.rollingUpdate;
  if (!has(ru)) return [fieldError.required(path.child('rollingUpdate').toString())];
  const p = path.child('rollingUpdate');
  const errs = [
    ...validateIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable')),
    ...validateIntOrPercent(ru.maxSurge, p.child('maxSurge')),
    ...notMoreThan100Percent(ru.maxUnavailable, p.child('maxUnavailable')),
    ...notMoreThan100Percent(ru.maxSurge, p.child('maxSurge')),
  ];
  // A DaemonSet runs one pod per node: a rollout either surges or takes pods down, not both.
  const unavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
  const surge = intOrPercentValue(ru.maxSurge) !== 0;
  if (unavailable && surge) errs.push(fieldError.invalid(p.child('maxSurge').toString(), ru.maxSurge ?? null, 'may not be set when maxUnavailable is non-zero'));
  if (!unavailable && !surge) errs.push(fieldError.required(p.child('maxUnavailable').toString(), 'cannot be 0 when maxSurge is 0'));
  return errs;
}

function validateDaemonSetSpec(ds: DaemonSet): FieldError[] {
  const spec = specOf(ds);
  const template = SPEC.child('template');
  const errs = validateLabelSelector(spec.selector, SPEC.child('selector'));
  if (!selectorIsMalformed(spec.selector, SPEC.child('selector'))) errs.push(...selectorMismatch(spec.selector, spec.template, template));
  if (has(spec.selector) && isEmptySelector(spec.selector)) {
    errs.push(fieldError.invalid(SPEC.child('selector').toString(), spec.selector, 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(spec.template, template));
  errs.push(...restartAlwaysOnly(spec.template, 'DaemonSet', template));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')));
  errs.push(...validateDaemonSetStrategy(spec.updateStrategy));
  return [...errs, ...nonNegative(spec.revisionHistoryLimit, SPEC.child('revisionHistoryLimit'))];
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(metaOf(ds), meta()), ...validateDaemonSetSpec(ds)];
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(ds), metaOf(old), { kubeFinalizers: true }), ...validateDaemonSetSpec(ds), ...selectorImmutable(specOf(ds), specOf(old))];
}

export function validateDaemonSetStatusUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const status = (has(ds.status) ? ds.status : {}) as Record<string, unknown>;
  const errs = validateObjectMetaUpdate(metaOf(ds), metaOf(old), { kubeFinalizers: true });
  errs.push(
    ...validateReplicaCounters(
      status,
      STATUS,
      ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'],
      [],
    ),
  );
  return [...errs, ...collisionCountDecremented(status['collisionCount'], old.status?.collisionCount, STATUS.child('collisionCount'))];
}

// ---- StatefulSet --------------------------------------------------------------------------------

function validateStatefulSetSpec(sts: StatefulSet): FieldError[] {
  const spec: StatefulSetSpec = specOf(sts);
  const errs: FieldError[] = [];
  const policy = text(spec.podManagementPolicy);
  if (!policy) errs.push(fieldError.required(SPEC.child('podManagementPolicy').toString()));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(fieldError.invalid(SPEC.child('podManagementPolicy').toString(), policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const strategy = has(spec.updateStrategy) ? spec.updateStrategy : {};
  const strategyPath = SPEC.child('updateStrategy');
  switch (text(strategy.type)) {
    case '':
      errs.push(fieldError.required(strategyPath.toString()));
      break;
    case 'OnDelete':
      if (has(strategy.rollingUpdate)) {
        errs.push(fieldError.invalid(strategyPath.child('rollingUpdate').toString(), strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!has(ru)) break;
      const p = strategyPath.child('rollingUpdate');
      errs.push(...nonNegative(ru.partition, p.child('partition')));
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
        errs.push(...validateIntOrPercent(ru.maxUnavailable, p.child('maxUnavailable')));
        if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(fieldError.invalid(p.child('maxUnavailable').toString(), ru.maxUnavailable, 'cannot be 0'));
        errs.push(...notMoreThan100Percent(ru.maxUnavailable, p.child('maxUnavailable')));
      }
      break;
    }
    default:
      errs.push(fieldError.invalid(strategyPath.toString(), strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (has(retention)) {
    for (const field of ['whenDeleted', 'whenScaled'] as const) {
      const v = text(retention[field]);
      if (v !== 'Retain' && v !== 'Delete') {
        errs.push(fieldError.notSupported(SPEC.child('persistentVolumeClaimRetentionPolicy', field).toString(), v, ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...nonNegative(spec.replicas, SPEC.child('replicas')));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')));
  if (has(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, SPEC.child('ordinals.start')));
  errs.push(...requiredSelector(spec, 'statefulset'));
  const template = SPEC.child('template');
  if (selectorIsMalformed(spec.selector, SPEC.child('selector'))) {
    errs.push(fieldError.invalid(SPEC.child('selector').toString(), spec.selector, ''));
  } else {
    // Kubernetes does not validate a StatefulSet's pod spec here (volume mounts may name claim
    // templates); pods the controller creates from it are validated when they are created.
    const labels = has(spec.template?.metadata) ? spec.template.metadata : {};
    errs.push(...selectorMismatch(spec.selector, spec.template, template));
    errs.push(...validateLabels(labels.labels, template.child('labels')));
    errs.push(...validateAnnotations(labels.annotations, template.child('annotations')));
    errs.push(...validatePodSpecificAnnotations(labels.annotations, spec.template?.spec, template.child('annotations')));
  }
  return [...errs, ...restartAlwaysOnly(spec.template, 'StatefulSet', template)];
}

/**
 * Kubernetes creates a PersistentVolumeClaim per pod from each claim template; Skiff serves no
 * PersistentVolumeClaims, so it refuses the templates rather than run pods without their storage.
 * On update the templates are immutable, so checking creation suffices.
 */
function unsupportedClaimTemplates(spec: StatefulSetSpec): FieldError[] {
  if (!Array.isArray(spec.volumeClaimTemplates) || spec.volumeClaimTemplates.length === 0) return [];
  return [
    fieldError.forbidden(
      SPEC.child('volumeClaimTemplates').toString(),
      'not supported by Skiff: it has no PersistentVolumeClaims yet, so a StatefulSet cannot claim storage for its pods (use volumes in spec.template)',
    ),
  ];
}

export function validateStatefulSet(sts: StatefulSet): FieldError[] {
  return [...validateObjectMeta(metaOf(sts), meta(dnsLabelName)), ...validateStatefulSetSpec(sts), ...unsupportedClaimTemplates(specOf(sts))];
}

export function validateStatefulSetUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = [...validateObjectMetaUpdate(metaOf(sts), metaOf(old), { kubeFinalizers: true }), ...validateStatefulSetSpec(sts)];
  const mutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
  const strip = (spec: StatefulSetSpec): Record<string, unknown> =>
    Object.fromEntries(Object.entries(spec).filter(([k]) => !mutable.includes(k)));
  if (!jsonEqual(strip(specOf(sts)), strip(specOf(old)))) {
    errs.push(
      fieldError.forbidden(
        SPEC.toString(),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

export function validateStatefulSetStatusUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const status = (has(sts.status) ? sts.status : {}) as Record<string, unknown>;
  const errs = validateReplicaCounters(
    status,
    STATUS,
    ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'],
    ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'],
  );
  errs.push(...availableNotAboveReady(status, 'cannot be greater than status.readyReplicas'));
  errs.push(...validateObjectMetaUpdate(metaOf(sts), metaOf(old), { kubeFinalizers: true }));
  return [...errs, ...collisionCountDecremented(status['collisionCount'], old.status?.collisionCount, STATUS.child('collisionCount'))];
}

// ---- ControllerRevision -------------------------------------------------------------------------

export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(metaOf(cr), meta());
  if (cr.data === undefined || cr.data === null) errs.push(fieldError.required('data', 'data is mandatory'));
  return [...errs, ...nonNegative(cr.revision, FieldPath.of('revision'))];
}

export function validateControllerRevisionUpdate(cr: ControllerRevision, old: ControllerRevision): FieldError[] {
  const errs = [...validateObjectMetaUpdate(metaOf(cr), metaOf(old), { kubeFinalizers: true }), ...validateControllerRevision(cr)];
  if (!jsonEqual(cr.data, old.data)) errs.push(fieldError.immutable('data', cr.data ?? null));
  return errs;
}
