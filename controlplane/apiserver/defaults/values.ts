// Small helpers for filling in defaults on untrusted JSON objects in place.

import { formatQuantity, parseQuantity, roundUpToMilli } from '../validation/quantity.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The objects of a list field, skipping anything malformed (validation reports those). */
export function objectsIn(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Sets `obj[key]` when it is absent, null or (for strings) empty, as Go's zero-value checks do. */
export function setDefault(obj: Record<string, unknown>, key: string, value: unknown): void {
  const current = obj[key];
  if (current === undefined || current === null || current === '') obj[key] = value;
}

/** The object at `obj[key]`, created when absent. */
export function child(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const current = obj[key];
  if (isObject(current)) return current;
  const created: Record<string, unknown> = {};
  obj[key] = created;
  return created;
}

/**
 * Resource lists are stored in canonical form, rounded up to milli precision
 * (core/v1 SetDefaults_ResourceList): `0.5` becomes `500m`, `1024Mi` becomes `1Gi`.
 */
export function canonicalizeResourceList(list: unknown): void {
  if (!isObject(list)) return;
  for (const [name, raw] of Object.entries(list)) {
    const q = parseQuantity(raw);
    if (typeof q !== 'string') list[name] = formatQuantity(roundUpToMilli(q));
  }
}
