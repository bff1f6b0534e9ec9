// Labels and label selectors as the printers show them (apimachinery `labels.FormatLabels`,
// `metav1.FormatLabelSelector`): requirements sorted by key, `k=v` for equality, `k in (a,b)`,
// `k notin (a,b)`, `k` for Exists and `!k` for DoesNotExist, joined with commas.

import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import { isQualifiedName, isValidLabelValue } from '../../../api/names.js';

/** `a=1,b=2` sorted by key, or `<none>` for no labels. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/**
 * The selector's string form, `''` when it selects everything (or is absent), or undefined when it
 * is invalid (unknown operator, wrong number of values, bad key or value).
 */
export function labelSelectorString(selector: LabelSelector | undefined): string | undefined {
  if (!selector) return '';
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (isQualifiedName(key).length > 0 || isValidLabelValue(value).length > 0) return undefined;
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const text = requirementText(expression);
    if (text === undefined) return undefined;
    requirements.push({ key: expression.key, text });
  }
  // Stable sort by key, as the selector keeps its requirements.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return requirements.map((r) => r.text).join(',');
}

function requirementText({ key, operator, values = [] }: LabelSelectorRequirement): string | undefined {
  if (isQualifiedName(key).length > 0) return undefined;
  if (values.some((v) => isValidLabelValue(v).length > 0)) return undefined;
  const sorted = [...values].sort();
  switch (operator) {
    case 'In':
      return values.length === 0 ? undefined : `${key} in (${sorted.join(',')})`;
    case 'NotIn':
      return values.length === 0 ? undefined : `${key} notin (${sorted.join(',')})`;
    case 'Exists':
      return values.length > 0 ? undefined : key;
    case 'DoesNotExist':
      return values.length > 0 ? undefined : `!${key}`;
    default:
      return undefined;
  }
}

/** The SELECTOR cell of ReplicaSets, DaemonSets and Jobs: `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const text = labelSelectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}
