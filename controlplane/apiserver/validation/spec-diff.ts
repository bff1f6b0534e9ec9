// A short description of how two JSON values differ, appended to "may not change" errors the way
// Kubernetes appends a cmp.Diff of the two specs, so users can see which field they touched.

import { isRecord, jsonEqual } from './json-shapes.js';

function collect(before: unknown, after: unknown, path: string, out: string[]): void {
  if (jsonEqual(before, after) || out.length >= 20) return;
  if (isRecord(before) && isRecord(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) collect(before[k], after[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((v, i) => collect(v, after[i], `${path}[${i}]`, out));
    return;
  }
  out.push(`- ${path}: ${JSON.stringify(before ?? null)}`, `+ ${path}: ${JSON.stringify(after ?? null)}`);
}

export function describeDiff(before: unknown, after: unknown, root: string): string {
  const out: string[] = [];
  collect(before, after, root, out);
  return out.join('\n');
}
