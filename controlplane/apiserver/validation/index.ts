// Validation of the objects users write, per kind, as kube-apiserver's registry strategies run it:
// the kind's own rules first, then the checks the generic registry makes for every kind
// (ObjectMeta with URL-safe names on create; metadata immutability on update). Every problem is
// reported, so a 422 lists all its causes.

import type { FieldError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';
import {
  validateControllerRevision,
  validateControllerRevisionUpdate,
  validateDaemonSet,
  validateDaemonSetStatusUpdate,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentStatusUpdate,
  validateDeploymentUpdate,
  validateReplicaSet,
  validateReplicaSetStatusUpdate,
  validateReplicaSetUpdate,
  validateStatefulSet,
  validateStatefulSetStatusUpdate,
  validateStatefulSetUpdate,
} from './apps.js';
import { asHpaV2 } from '../registry/hpa-conversion.js';
import {
  validateHorizontalPodAutoscaler,
  validateHorizontalPodAutoscalerStatusUpdate,
  validateHorizontalPodAutoscalerUpdate,
} from './autoscaling.js';
import { validateJob, validateJobStatusUpdate, validateJobUpdate } from './batch.js';
import { validatePodDisruptionBudget, validatePodDisruptionBudgetStatusUpdate, validatePodDisruptionBudgetUpdate } from './policy.js';
import { validateLease, validateLeaseUpdate } from './coordination.js';
import { validateCronJob, validateCronJobStatusUpdate, validateCronJobUpdate } from './cronjob.js';
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEndpoints,
  validateNamespace,
  validateNamespaceStatusUpdate,
  validateNode,
  validateNodeUpdate,
  validateSecret,
  validateSecretUpdate,
  validateServiceAccount,
} from './core.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './discovery.js';
import { validateEventCreate, validateEventUpdate } from './events.js';
import { metaOf, validateCommonMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { validatePodCreate, validatePodStatusUpdate, validatePodUpdate } from './pod.js';
import {
  validateLimitRange,
  validateLimitRangeUpdate,
  validateResourceQuota,
  validateResourceQuotaStatusUpdate,
  validateResourceQuotaUpdate,
} from './quota.js';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from './service.js';

type Check = (obj: never) => FieldError[];
type UpdateCheck = (obj: never, old: never) => FieldError[];

interface KindRules {
  create: Check;
  update: UpdateCheck;
  /** Status subresource writes; metadata rules only when absent. */
  status?: UpdateCheck;
}

const metaUpdateOnly: UpdateCheck = (obj: KubeObject, old: KubeObject) => validateObjectMetaUpdate(metaOf(obj), metaOf(old), { kubeFinalizers: true });
const thenCreate =
  <T extends Parameters<typeof metaOf>[0]>(create: (obj: T) => FieldError[]): UpdateCheck =>
  (obj: T, old: T) => [...validateObjectMetaUpdate(metaOf(obj), metaOf(old), { kubeFinalizers: true }), ...create(obj)];

const RULES: Record<string, KindRules> = {
  '/Pod': { create: validatePodCreate, update: validatePodUpdate, status: validatePodStatusUpdate },
  '/Service': { create: validateService, update: validateServiceUpdate, status: validateServiceStatusUpdate },
  '/Namespace': { create: validateNamespace, update: metaUpdateOnly, status: validateNamespaceStatusUpdate },
  '/Node': { create: validateNode, update: validateNodeUpdate, status: validateNodeUpdate },
  '/ConfigMap': { create: validateConfigMap, update: validateConfigMapUpdate },
  '/Secret': { create: validateSecret, update: validateSecretUpdate },
  '/ServiceAccount': { create: validateServiceAccount, update: thenCreate(validateServiceAccount) },
  '/Endpoints': { create: validateEndpoints, update: thenCreate(validateEndpoints) },
  '/LimitRange': { create: validateLimitRange, update: validateLimitRangeUpdate },
  '/ResourceQuota': { create: validateResourceQuota, update: validateResourceQuotaUpdate, status: validateResourceQuotaStatusUpdate },
  '/Event': {
    create: (obj: KubeObject) => validateEventCreate(obj, false),
    update: (obj: KubeObject, old: KubeObject) => validateEventUpdate(obj, old, false),
  },
  'events.k8s.io/Event': {
    create: (obj: KubeObject) => validateEventCreate(obj, true),
    update: (obj: KubeObject, old: KubeObject) => validateEventUpdate(obj, old, true),
  },
  'discovery.k8s.io/EndpointSlice': { create: validateEndpointSlice, update: validateEndpointSliceUpdate },
  'coordination.k8s.io/Lease': { create: validateLease, update: validateLeaseUpdate },
  'apps/Deployment': { create: validateDeployment, update: validateDeploymentUpdate, status: validateDeploymentStatusUpdate },
  'apps/ReplicaSet': { create: validateReplicaSet, update: validateReplicaSetUpdate, status: validateReplicaSetStatusUpdate },
  'apps/DaemonSet': { create: validateDaemonSet, update: validateDaemonSetUpdate, status: validateDaemonSetStatusUpdate },
  'apps/StatefulSet': { create: validateStatefulSet, update: validateStatefulSetUpdate, status: validateStatefulSetStatusUpdate },
  'apps/ControllerRevision': { create: validateControllerRevision, update: validateControllerRevisionUpdate },
  'batch/Job': { create: validateJob, update: validateJobUpdate, status: validateJobStatusUpdate },
  'batch/CronJob': { create: validateCronJob, update: validateCronJobUpdate, status: validateCronJobStatusUpdate },
  // Both versions are checked in the v2 form, as Kubernetes checks the internal type.
  'autoscaling/HorizontalPodAutoscaler': {
    create: (obj: KubeObject) => validateHorizontalPodAutoscaler(asHpaV2(obj) as never),
    update: (obj: KubeObject, old: KubeObject) => validateHorizontalPodAutoscalerUpdate(asHpaV2(obj) as never, asHpaV2(old) as never),
    status: (obj: KubeObject, old: KubeObject) => validateHorizontalPodAutoscalerStatusUpdate(asHpaV2(obj) as never, asHpaV2(old) as never),
  },
  'policy/PodDisruptionBudget': {
    create: validatePodDisruptionBudget,
    update: validatePodDisruptionBudgetUpdate,
    status: validatePodDisruptionBudgetStatusUpdate,
  },
};

function rulesFor(resource: ResourceType): KindRules | undefined {
  return RULES[`${resource.group}/${resource.kind}`];
}

/** Kubernetes prints each distinct message once; the same rule can fire from two passes. */
function distinct(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const key = JSON.stringify([e.type, e.field, e.detail ?? '', e.badValue ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Common checks on update (apiserver rest.BeforeUpdate validateCommonFields). */
function commonUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject): FieldError[] {
  return [...validateCommonMeta(metaOf(obj), resource.namespaced), ...validateObjectMetaUpdate(metaOf(obj), metaOf(old))];
}

/** Everything wrong with an object about to be created (after defaulting and server-set fields). */
export function validateCreate(resource: ResourceType, obj: KubeObject): FieldError[] {
  const rules = rulesFor(resource);
  const errs = rules ? rules.create(obj as never) : [];
  // The generic registry's checks run only once the kind's own rules pass (rest.BeforeCreate).
  if (errs.length > 0) return distinct(errs);
  return distinct(validateCommonMeta(metaOf(obj), resource.namespaced));
}

/** Everything validateCreate checks, plus what may not change from `old`. */
export function validateUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject): FieldError[] {
  const rules = rulesFor(resource);
  const own = rules ? rules.update(obj as never, old as never) : [];
  return distinct([...commonUpdate(resource, obj, old), ...own]);
}

/** A write to the status subresource: metadata rules and the status rules that matter. */
export function validateStatusUpdate(resource: ResourceType, obj: KubeObject, old: KubeObject): FieldError[] {
  const rules = rulesFor(resource);
  const own = (rules?.status ?? metaUpdateOnly)(obj as never, old as never);
  return distinct([...commonUpdate(resource, obj, old), ...own]);
}
