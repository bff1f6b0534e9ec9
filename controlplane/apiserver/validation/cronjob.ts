// batch/v1 CronJobs (batch validation ValidateCronJobCreate / ValidateCronJobUpdate): a schedule
// that parses, in a time zone that exists, and a Job template valid as a Job's spec would be.

import type { CronJob, CronJobSpec } from 'kubernetes-types/batch/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { parseSchedule, scheduleNamesTimeZone, timeZoneProblem } from '../../../api/cron.js';
import { validateJobSpecBody } from './batch.js';
import { FieldPath } from './field-path.js';
import { has, text } from './json-shapes.js';
import { validateLabels } from './label-selector.js';
import { dnsSubdomainName, metaOf, validateAnnotations, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { nonNegative } from './workload.js';

const SPEC = FieldPath.of('spec');
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];
/** Job names append 11 characters (`-` and minutes since the epoch) and must stay DNS labels. */
const MAX_NAME_LENGTH = 52;

function specOf(cronJob: CronJob): CronJobSpec {
  return has(cronJob.spec) ? cronJob.spec : ({ schedule: '', jobTemplate: {} } as CronJobSpec);
}

/** `allowTZInSchedule`: an update may keep a TZ= prefix that an older server accepted. */
function validateSchedule(spec: CronJobSpec, allowTZInSchedule: boolean): FieldError[] {
  const path = SPEC.child('schedule').toString();
  const schedule = text(spec.schedule);
  if (!schedule) return [fieldError.required(path)];
  const errs: FieldError[] = [];
  const parsed = parseSchedule(schedule);
  if (!parsed.ok) errs.push(fieldError.invalid(path, schedule, parsed.message));
  if (scheduleNamesTimeZone(schedule)) {
    if (!allowTZInSchedule) errs.push(fieldError.invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    else if (typeof spec.timeZone === 'string') errs.push(fieldError.invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  }
  return errs;
}

function validateCronJobSpec(spec: CronJobSpec, allowTZInSchedule: boolean): FieldError[] {
  const errs = validateSchedule(spec, allowTZInSchedule);
  if (typeof spec.timeZone === 'string') {
    const problem = timeZoneProblem(spec.timeZone);
    if (problem) errs.push(fieldError.invalid(SPEC.child('timeZone').toString(), spec.timeZone, problem));
  }
  for (const field of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const) {
    errs.push(...nonNegative(spec[field], SPEC.child(field)));
  }
  const policy = text(spec.concurrencyPolicy);
  const policyPath = SPEC.child('concurrencyPolicy').toString();
  if (!policy) errs.push(fieldError.required(policyPath));
  else if (!CONCURRENCY_POLICIES.includes(policy)) errs.push(fieldError.notSupported(policyPath, policy, CONCURRENCY_POLICIES));
  const template = has(spec.jobTemplate) ? spec.jobTemplate : {};
  const templatePath = SPEC.child('jobTemplate');
  errs.push(...validateLabels(template.metadata?.labels, templatePath.child('metadata', 'labels')));
  errs.push(...validateAnnotations(template.metadata?.annotations, templatePath.child('metadata', 'annotations')));
  const jobSpec = has(template.spec) ? template.spec : { template: {} };
  errs.push(...validateJobSpecBody(jobSpec, templatePath.child('spec')));
  return errs;
}

export function validateCronJob(cronJob: CronJob): FieldError[] {
  const meta = metaOf(cronJob);
  const errs = validateObjectMeta(meta, { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  const name = text(meta.name);
  if (name.length > MAX_NAME_LENGTH) errs.push(fieldError.invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH} characters`));
  errs.push(...validateCronJobSpec(specOf(cronJob), false));
  return errs;
}

export function validateCronJobUpdate(cronJob: CronJob, old: CronJob): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(cronJob), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateCronJobSpec(specOf(cronJob), scheduleNamesTimeZone(text(specOf(old).schedule))));
  return errs;
}

export function validateCronJobStatusUpdate(cronJob: CronJob, old: CronJob): FieldError[] {
  return validateObjectMetaUpdate(metaOf(cronJob), metaOf(old), { kubeFinalizers: true });
}
