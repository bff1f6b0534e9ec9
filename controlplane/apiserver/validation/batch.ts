// batch/v1 Jobs (batch validation ValidateJob / ValidateJobUpdate): run-to-completion pods, a
// selector generated from the Job's uid, and a spec that is fixed once the Job has started.

import type { Job, JobSpec, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isQualifiedName } from '../../../api/names.js';
import { FieldPath } from './field-path.js';
import { has, items, jsonEqual, text } from './json-shapes.js';
import { selectorIsMalformed, selectorMatches, validateLabelSelector } from './label-selector.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { validatePodTemplateSpec } from './podspec.js';
import { nonNegative, selectorMismatch } from './workload.js';

const SPEC = FieldPath.of('spec');
const MAX_PARALLELISM_INDEXED = 100000;
const MAX_FAILED_INDEXES = 100000;
/** podFailurePolicy bounds: rules, exit code values per rule, condition patterns per rule. */
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;

/** The labels the API server puts on a Job's pods so that its selector matches only them. */
export const JOB_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'] as const;
export const JOB_NAME_LABELS = ['job-name', 'batch.kubernetes.io/job-name'] as const;

function specOf(job: Job): JobSpec {
  return has(job.spec) ? job.spec : ({ template: {} } as JobSpec);
}

/** validateGeneratedSelector: unless the user manages the selector, it must be the generated one. */
function validateGeneratedSelector(job: Job): FieldError[] {
  const spec = specOf(job);
  if (spec.manualSelector === true || !has(spec.selector)) return [];
  const meta = metaOf(job);
  const uid = text(meta.uid);
  const name = text(meta.name);
  const errs: FieldError[] = [];
  if (!uid) errs.push(fieldError.required(FieldPath.of('metadata', 'uid').toString()));
  const labels = spec.template?.metadata?.labels ?? {};
  const labelsPath = SPEC.child('template', 'metadata', 'labels');
  const expected: Record<string, string> = {};
  for (const [keys, value] of [[JOB_UID_LABELS, uid], [JOB_NAME_LABELS, name]] as const) {
    for (const key of keys) {
      expected[key] = value;
      if (!(key in labels)) errs.push(fieldError.required(labelsPath.key(key).toString(), `must be '${value}'`));
      else if (labels[key] !== value) errs.push(fieldError.invalid(labelsPath.key(key).toString(), labels, `must be '${value}'`));
    }
  }
  if (!selectorIsMalformed(spec.selector, SPEC.child('selector')) && !selectorMatches(spec.selector, expected)) {
    errs.push(fieldError.invalid(SPEC.child('selector').toString(), spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

function validatePodFailurePolicyRule(rule: PodFailurePolicyRule, spec: JobSpec, containers: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  const action = text(rule.action);
  if (!action) errs.push(fieldError.required(path.child('action').toString(), `valid values: [${actions.map((a) => JSON.stringify(a)).join(' ')}]`));
  else if (action === 'FailIndex' && (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null)) {
    errs.push(fieldError.invalid(path.child('action').toString(), action, 'requires the backoffLimitPerIndex to be set'));
  } else if (!actions.includes(action)) errs.push(fieldError.notSupported(path.child('action').toString(), action, actions));
  const onExit = rule.onExitCodes;
  const onConditions = items(rule.onPodConditions);
  if (has(onExit)) {
    const p = path.child('onExitCodes');
    const op = text(onExit.operator);
    if (!op) errs.push(fieldError.required(p.child('operator').toString(), 'valid values: ["In" "NotIn"]'));
    else if (op !== 'In' && op !== 'NotIn') errs.push(fieldError.notSupported(p.child('operator').toString(), op, ['In', 'NotIn']));
    if (onExit.containerName !== undefined && onExit.containerName !== null && !containers.has(onExit.containerName)) {
      errs.push(fieldError.invalid(p.child('containerName').toString(), onExit.containerName, 'must be one of the container or initContainer names in the pod template'));
    }
    const values = items(onExit.values);
    if (values.length === 0) errs.push(fieldError.invalid(p.child('values').toString(), values, 'at least one value is required'));
    else if (values.length > MAX_ON_EXIT_CODES_VALUES) errs.push(fieldError.tooMany(p.child('values').toString(), MAX_ON_EXIT_CODES_VALUES, values.length));
    const seen = new Set<number>();
    values.forEach((v, j) => {
      if (op === 'In' && v === 0) errs.push(fieldError.invalid(p.child('values').index(j).toString(), v, 'must not be 0 for the In operator'));
      if (seen.has(v)) errs.push(fieldError.duplicate(p.child('values').index(j).toString(), v));
      seen.add(v);
    });
    if (values.some((v, j) => j > 0 && (values[j - 1] ?? 0) > v)) errs.push(fieldError.invalid(p.child('values').toString(), values, 'must be ordered'));
  }
  if (onConditions.length > MAX_ON_POD_CONDITIONS_PATTERNS) errs.push(fieldError.tooMany(path.child('onPodConditions').toString(), MAX_ON_POD_CONDITIONS_PATTERNS, onConditions.length));
  onConditions.forEach((pattern, j) => {
    const p = path.child('onPodConditions').index(j);
    errs.push(...isQualifiedName(text(pattern.type)).map((msg) => fieldError.invalid(p.child('type').toString(), pattern.type, msg)));
    const status = text(pattern.status);
    const statuses = ['False', 'True', 'Unknown'];
    if (!status) errs.push(fieldError.required(p.child('status').toString(), `valid values: [${statuses.map((v) => JSON.stringify(v)).join(' ')}]`));
    else if (!statuses.includes(status)) errs.push(fieldError.notSupported(p.child('status').toString(), status, statuses));
  });
  if (has(onExit) && onConditions.length > 0) errs.push(fieldError.invalid(path.toString(), null, 'specifying both OnExitCodes and OnPodConditions is not supported'));
  if (!has(onExit) && onConditions.length === 0) errs.push(fieldError.invalid(path.toString(), null, 'specifying one of OnExitCodes and OnPodConditions is required'));
  return errs;
}

/** validateJobSpec: everything but the selector (a CronJob's template has none yet). */
export function validateJobSpecBody(spec: JobSpec, specPath: FieldPath = SPEC): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    errs.push(...nonNegative(spec[field], specPath.child(field)));
  }
  if (typeof spec.maxFailedIndexes === 'number' && spec.backoffLimitPerIndex === undefined) {
    errs.push(fieldError.required(specPath.child('backoffLimitPerIndex').toString(), 'when maxFailedIndexes is specified'));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(fieldError.notSupported(specPath.child('completionMode').toString(), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (typeof spec.completions !== 'number') errs.push(fieldError.required(specPath.child('completions').toString(), 'when completion mode is Indexed'));
      if (typeof spec.parallelism === 'number' && spec.parallelism > MAX_PARALLELISM_INDEXED) {
        errs.push(fieldError.invalid(specPath.child('parallelism').toString(), spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
      if (typeof spec.completions === 'number' && typeof spec.maxFailedIndexes === 'number' && spec.maxFailedIndexes > spec.completions) {
        errs.push(fieldError.invalid(specPath.child('maxFailedIndexes').toString(), spec.maxFailedIndexes, 'must be less than or equal to completions'));
      }
      if (typeof spec.maxFailedIndexes === 'number' && spec.maxFailedIndexes > MAX_FAILED_INDEXES) {
        errs.push(fieldError.invalid(specPath.child('maxFailedIndexes').toString(), spec.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
      }
    }
  }
  if (mode !== 'Indexed') {
    for (const field of ['backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
      const v = spec[field];
      if (v !== undefined && v !== null) errs.push(fieldError.invalid(specPath.child(field).toString(), v, 'requires indexed completion mode'));
    }
  }
  const pfp = spec.podFailurePolicy;
  if (has(pfp)) {
    const rules = items(pfp.rules);
    const rulesPath = specPath.child('podFailurePolicy', 'rules');
    if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(fieldError.tooMany(rulesPath.toString(), MAX_POD_FAILURE_POLICY_RULES, rules.length));
    const containers = new Set([...items(spec.template?.spec?.containers), ...items(spec.template?.spec?.initContainers)].map((c) => text(c.name)));
    rules.forEach((rule, i) => errs.push(...validatePodFailurePolicyRule(rule, spec, containers, rulesPath.index(i))));
  }
  if (has(spec.successPolicy) && mode !== 'Indexed') {
    errs.push(fieldError.invalid(specPath.child('successPolicy').toString(), spec.successPolicy, 'requires indexed completion mode'));
  }
  // Accepted by Kubernetes 1.32 but not acted on by Skiff's Job controller: refused rather than
  // silently ignored, so that a Job never runs under rules it does not follow. (A FailIndex rule
  // needs backoffLimitPerIndex, so it is refused with it.)
  for (const field of ['successPolicy', 'backoffLimitPerIndex'] as const) {
    if (spec[field] !== undefined && spec[field] !== null) errs.push(fieldError.forbidden(specPath.child(field).toString(), `not supported by Skiff: its Job controller does not implement ${field}`));
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined && replacement !== null) {
    const p = specPath.child('podReplacementPolicy').toString();
    if (has(pfp) && replacement !== 'Failed') errs.push(fieldError.notSupported(p, replacement, ['Failed']));
    else if (!['Failed', 'TerminatingOrFailed'].includes(replacement)) errs.push(fieldError.notSupported(p, replacement, ['Failed', 'TerminatingOrFailed']));
  }
  const templatePath = specPath.child('template');
  errs.push(...validatePodTemplateSpec(spec.template, templatePath));
  // Pods of a Job run to completion: restarting them forever would never finish the Job.
  const restartPolicy = text(spec.template?.spec?.restartPolicy);
  const restartPath = templatePath.child('spec', 'restartPolicy').toString();
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(fieldError.required(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(fieldError.notSupported(restartPath, restartPolicy, ['OnFailure', 'Never']));
  else if (has(pfp) && restartPolicy !== 'Never') errs.push(fieldError.invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

function validateJobSpec(spec: JobSpec): FieldError[] {
  const errs = validateJobSpecBody(spec);
  if (!has(spec.selector)) errs.push(fieldError.required(SPEC.child('selector').toString()));
  else errs.push(...validateLabelSelector(spec.selector, SPEC.child('selector')));
  if (has(spec.selector) && !selectorIsMalformed(spec.selector, SPEC.child('selector'))) {
    errs.push(...selectorMismatch(spec.selector, spec.template, SPEC.child('template')));
  }
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  const meta = metaOf(job);
  const spec = specOf(job);
  const errs = validateObjectMeta(meta, { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  errs.push(...validateGeneratedSelector(job));
  errs.push(...validateJobSpec(spec));
  if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
    // Indexed pods are named <job>-<index> and need that to be a valid hostname.
    const longest = `${text(meta.name)}-${spec.completions - 1}`;
    if (isDNS1123Label(longest).length > 0) {
      errs.push(fieldError.invalid('metadata.name', text(meta.name), `will not able to create pod with invalid DNS label: ${longest}`));
    }
  }
  return errs;
}

/** A suspended Job that never ran may still be re-targeted (JobMutableNodeSchedulingDirectives). */
function comparableTemplate(template: PodTemplateSpec | undefined, from: PodTemplateSpec | undefined, mutableScheduling: boolean): unknown {
  if (!mutableScheduling) return template;
  const t = has(template) ? template : {};
  const f = has(from) ? from : {};
  return {
    ...t,
    metadata: { ...t.metadata, labels: f.metadata?.labels, annotations: f.metadata?.annotations },
    spec: {
      ...t.spec,
      nodeSelector: f.spec?.nodeSelector,
      tolerations: f.spec?.tolerations,
      schedulingGates: f.spec?.schedulingGates,
      affinity: has(t.spec?.affinity) || has(f.spec?.affinity) ? { ...t.spec?.affinity, nodeAffinity: f.spec?.affinity?.nodeAffinity } : undefined,
    },
  };
}

export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const spec = specOf(job);
  const oldSpec = specOf(old);
  const errs = validateObjectMetaUpdate(metaOf(job), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateJobSpec(spec));
  const immutable = (field: keyof JobSpec): void => {
    if (!jsonEqual(spec[field], oldSpec[field])) errs.push(fieldError.immutable(SPEC.child(field).toString(), spec[field] ?? null));
  };
  // Indexed Jobs may scale completions together with parallelism (ElasticIndexedJob).
  if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number') {
    if (spec.completions !== oldSpec.completions && spec.completions !== spec.parallelism) {
      errs.push(fieldError.invalid(SPEC.child('completions').toString(), spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  } else {
    immutable('completions');
  }
  immutable('selector');
  const mutableScheduling = spec.suspend === true && !old.status?.startTime;
  if (!jsonEqual(comparableTemplate(spec.template, oldSpec.template, mutableScheduling), oldSpec.template)) {
    errs.push(fieldError.immutable(SPEC.child('template').toString(), spec.template));
  }
  for (const field of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'] as const) immutable(field);
  return errs;
}

export function validateJobStatusUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(job), metaOf(old), { kubeFinalizers: true });
  const status = (has(job.status) ? job.status : {}) as Record<string, unknown>;
  for (const field of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errs.push(...nonNegative(status[field], FieldPath.of('status', field)));
  return errs;
}
