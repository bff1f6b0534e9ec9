// Pieces shared by the workload kinds (apps and batch): selectors that must select their own pod
// template, int-or-percent rollout settings, and status counters.

import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import type { FieldPath } from './field-path.js';
import { isValidPercent } from './formats.js';
import { has, text } from './json-shapes.js';
import { selectorMatches } from './label-selector.js';

export function nonNegative(value: unknown, path: FieldPath): FieldError[] {
  return typeof value === 'number' && value < 0 ? [fieldError.invalid(path.toString(), value, 'must be greater than or equal to 0')] : [];
}

export function templateLabels(template: PodTemplateSpec | undefined): Record<string, string> | undefined {
  return has(template) && has(template.metadata) ? template.metadata.labels : undefined;
}

/**
 * The controller finds its pods by the selector, so the template it creates them from must match
 * it. A missing selector selects nothing; an empty one everything (and is refused elsewhere).
 */
export function selectorMismatch(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, templatePath: FieldPath): FieldError[] {
  if (has(selector) && Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) return [];
  const labels = templateLabels(template);
  if (selectorMatches(selector, labels)) return [];
  return [fieldError.invalid(templatePath.child('metadata', 'labels').toString(), labels ?? {}, '`selector` does not match template `labels`')];
}

/** maxSurge / maxUnavailable: a non-negative integer or a percentage (ValidatePositiveIntOrPercent). */
export function validateIntOrPercent(value: unknown, path: FieldPath): FieldError[] {
  if (typeof value === 'string') return isValidPercent(value).map((msg) => fieldError.invalid(path.toString(), value, msg));
  if (typeof value === 'number') return nonNegative(value, path);
  return [fieldError.invalid(path.toString(), value, "must be an integer or percentage (e.g '5%%')")];
}

/** The number an int-or-percent holds, as Kubernetes' getIntOrPercentValue reads it. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  const s = text(value);
  if (/^[0-9]+%$/.test(s)) return Number(s.slice(0, -1));
  return /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

export function notMoreThan100Percent(value: unknown, path: FieldPath): FieldError[] {
  const s = text(value);
  if (!/^[0-9]+%$/.test(s) || Number(s.slice(0, -1)) <= 100) return [];
  return [fieldError.invalid(path.toString(), value, 'must not be greater than 100%')];
}

/** Status counters: never negative and, for the ones listed, never above status.replicas. */
export function validateReplicaCounters(
  status: Record<string, unknown>,
  path: FieldPath,
  counters: readonly string[],
  boundedByReplicas: readonly string[],
): FieldError[] {
  const errs = counters.flatMap((c) => nonNegative(status[c], path.child(c)));
  const replicas = typeof status['replicas'] === 'number' ? status['replicas'] : 0;
  for (const c of boundedByReplicas) {
    const v = status[c];
    if (typeof v === 'number' && v > replicas) errs.push(fieldError.invalid(path.child(c).toString(), v, 'cannot be greater than status.replicas'));
  }
  return errs;
}

export function collisionCountDecremented(now: unknown, before: unknown, path: FieldPath): FieldError[] {
  const n = typeof now === 'number' ? now : undefined;
  const b = typeof before === 'number' ? before : undefined;
  if (b === undefined || (n !== undefined && n >= b)) return [];
  return [fieldError.invalid(path.toString(), n ?? 0, 'cannot be decremented')];
}
