// Request bodies are untrusted JSON: a field typed as a list may hold a string. Validation reads
// them through these guards so that a malformed body yields field errors, never a crash.

export function items<T>(value: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}

export function entries<V>(value: Record<string, V> | null | undefined): [string, V][] {
  return isRecord(value) ? Object.entries(value as Record<string, V>) : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Deep equality of JSON values as apiequality.Semantic.DeepEqual sees the Go structs behind them:
 * an absent field, null, an empty list, an empty map and an empty string are all "unset".
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (isUnset(a) && isUnset(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

function isUnset(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return isRecord(v) && Object.keys(v).length === 0;
}

/** Whether an optional typed field holds an object (and not, in a malformed body, a scalar or list). */
export function has<T extends object>(value: T | null | undefined): value is T {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
