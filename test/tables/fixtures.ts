// Shared helpers for the table tests: a fixed clock and one-row tables by resource.

import type { KubeObject } from '../../api/objects.js';
import { RESOURCES, type ResourceType } from '../../api/resources.js';
import { toTable } from '../../controlplane/apiserver/tables/index.js';

export const NOW = new Date('2025-06-01T12:00:00Z');

/** A timestamp `seconds` before NOW. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString();
}

export function resource(group: string, plural: string): ResourceType {
  const r = RESOURCES.find((candidate) => candidate.group === group && candidate.plural === plural);
  if (!r) throw new Error(`no served resource ${group}/${plural}`);
  return r;
}

/** The cells of the one row printed for `obj`. */
export function cells(group: string, plural: string, obj: object): unknown[] {
  const row = toTable(resource(group, plural), [obj as KubeObject], { now: NOW }).rows[0];
  if (!row) throw new Error('no row');
  return row.cells;
}
