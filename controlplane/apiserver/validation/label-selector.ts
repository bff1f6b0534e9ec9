// Labels and meta/v1 LabelSelectors in workload and service specs: label syntax at a field path,
// selector validation and matching (over api/labels.ts, which implements LabelSelectorAsSelector).

import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { selectorFromLabelSelector, validateLabelSelector as validateMetaLabelSelector } from '../../../api/labels.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isQualifiedName, isValidLabelValue } from '../../../api/names.js';
import type { FieldPath } from './field-path.js';
import { entries, items } from './json-shapes.js';

export function validateLabelName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((msg) => fieldError.invalid(path.toString(), name, msg));
}

/** Label keys and values (meta/v1 ValidateLabels); both kinds of problem are reported at `path`. */
export function validateLabels(labels: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of entries(labels)) {
    errs.push(...validateLabelName(k, path));
    const value = typeof v === 'string' ? v : String(v);
    for (const msg of isValidLabelValue(value)) errs.push(fieldError.invalid(path.toString(), value, msg));
  }
  return errs;
}

/** Structural problems of a meta/v1 LabelSelector (meta/v1 validation ValidateLabelSelector). */
export function validateLabelSelector(selector: LabelSelector | undefined | null, path: FieldPath): FieldError[] {
  return validateMetaLabelSelector(selector, path.toString());
}

/** Whether metav1.LabelSelectorAsSelector would refuse the selector (any structural problem). */
export function selectorIsMalformed(selector: LabelSelector | undefined | null, path: FieldPath): boolean {
  return validateLabelSelector(selector, path).length > 0;
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return entries(selector.matchLabels).length + items(selector.matchExpressions).length === 0;
}

/**
 * Whether a well-formed selector selects `labels`. A missing selector selects nothing and an
 * empty one selects everything, as LabelSelectorAsSelector defines.
 */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  const converted = selectorFromLabelSelector(selector);
  return converted.ok && converted.selector.matches(labels);
}
