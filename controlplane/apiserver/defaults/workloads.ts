// Defaults for apps/v1 and batch/v1 workloads (apps/v1 and batch/v1 defaults.go). In apps/v1 the
// selector and the object's labels are never derived from the template: users must write them.

import { defaultPodTemplate } from './podspec.js';
import { child, isObject, objectsIn, setDefault } from './values.js';

function defaultInt(obj: Record<string, unknown>, key: string, value: number): void {
  if (typeof obj[key] !== 'number') obj[key] = value;
}

export function defaultDeployment(d: Record<string, unknown>): void {
  const spec = child(d, 'spec');
  defaultInt(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  defaultInt(spec, 'revisionHistoryLimit', 10);
  defaultInt(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(child(spec, 'template'));
}

export function defaultReplicaSet(rs: Record<string, unknown>): void {
  const spec = child(rs, 'spec');
  defaultInt(spec, 'replicas', 1);
  defaultPodTemplate(child(spec, 'template'));
}

export function defaultDaemonSet(ds: Record<string, unknown>): void {
  const spec = child(ds, 'spec');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  defaultInt(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(child(spec, 'template'));
}

export function defaultStatefulSet(sts: Record<string, unknown>): void {
  const spec = child(sts, 'spec');
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = child(spec, 'updateStrategy');
  if (!strategy['type']) {
    strategy['type'] = 'RollingUpdate';
    child(strategy, 'rollingUpdate');
  }
  if (strategy['type'] === 'RollingUpdate' && isObject(strategy['rollingUpdate'])) defaultInt(strategy['rollingUpdate'], 'partition', 0);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  defaultInt(spec, 'replicas', 1);
  defaultInt(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(child(spec, 'template'));
  for (const claim of objectsIn(spec['volumeClaimTemplates'])) {
    // Claim templates are PersistentVolumeClaims and get their defaults, status included.
    setDefault(child(claim, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(child(claim, 'status'), 'phase', 'Pending');
  }
}

export function defaultJob(job: Record<string, unknown>): void {
  const spec = child(job, 'spec');
  const template = child(spec, 'template');
  const templateLabels = isObject(template['metadata']) ? template['metadata']['labels'] : undefined;
  const meta = child(job, 'metadata');
  // batch/v1 still labels the Job like its pods when the Job has no labels of its own.
  if (isObject(templateLabels) && !(isObject(meta['labels']) && Object.keys(meta['labels']).length > 0)) meta['labels'] = { ...templateLabels };
  defaultJobSpec(spec);
}

export function defaultCronJob(cronJob: Record<string, unknown>): void {
  const spec = child(cronJob, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  if (typeof spec['suspend'] !== 'boolean') spec['suspend'] = false;
  defaultInt(spec, 'successfulJobsHistoryLimit', 3);
  defaultInt(spec, 'failedJobsHistoryLimit', 1);
  // As Kubernetes' defaulters do, only the pod template and the failure policy's condition
  // patterns inside the job template get defaults (theirs are per type, wherever it appears); the
  // Job's own fields (completions, backoffLimit…) are defaulted when the Job is created.
  const jobSpec = child(child(spec, 'jobTemplate'), 'spec');
  defaultConditionPatterns(jobSpec);
  defaultPodTemplate(child(jobSpec, 'template'));
}

/** A podFailurePolicy condition pattern's status defaults to True. */
function defaultConditionPatterns(jobSpec: Record<string, unknown>): void {
  const pfp = jobSpec['podFailurePolicy'];
  if (!isObject(pfp)) return;
  for (const rule of objectsIn(pfp['rules'])) for (const pattern of objectsIn(rule['onPodConditions'])) setDefault(pattern, 'status', 'True');
}

function defaultJobSpec(spec: Record<string, unknown>): void {
  // A Job that says nothing about parallelism runs one pod to one completion.
  if (typeof spec['completions'] !== 'number' && typeof spec['parallelism'] !== 'number') {
    spec['completions'] = 1;
    spec['parallelism'] = 1;
  }
  defaultInt(spec, 'parallelism', 1);
  defaultInt(spec, 'backoffLimit', typeof spec['backoffLimitPerIndex'] === 'number' ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  if (typeof spec['suspend'] !== 'boolean') spec['suspend'] = false;
  const pfp = spec['podFailurePolicy'];
  defaultConditionPatterns(spec);
  // Without a pod failure policy a replacement may start while the old pod is terminating.
  setDefault(spec, 'podReplacementPolicy', isObject(pfp) ? 'Failed' : 'TerminatingOrFailed');
  if (typeof spec['manualSelector'] !== 'boolean') spec['manualSelector'] = false;
  defaultPodTemplate(child(spec, 'template'));
}
