// A DaemonSet's revisions, kept as ControllerRevision objects as Kubernetes keeps them: each
// holds the template as a patch (`{"spec":{"template":{..., "$patch":"replace"}}}`), is named
// `<daemonset>-<hash>`, carries the controller-revision-hash label its pods share, and has a
// revision number; the current template is the highest. `kubectl rollout history/undo ds` read
// these.

import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import { canonicalJson, podTemplateHash } from '../deployment/hash.js';
import { CONTROLLER_REVISION_HASH_LABEL } from './pod-template.js';
import { deepCopy } from '../../../api/objects.js';

/** The data a ControllerRevision of this DaemonSet's current template holds (getPatch). */
export function revisionData(ds: DaemonSet): Record<string, unknown> {
  return { spec: { template: { ...(deepCopy(ds.spec?.template ?? {}) as object), $patch: 'replace' } } };
}

/** Whether a revision holds the DaemonSet's current template. */
export function revisionMatches(ds: DaemonSet, revision: ControllerRevision): boolean {
  return canonicalJson(revision.data ?? {}) === canonicalJson(revisionData(ds));
}

export function revisionHash(ds: DaemonSet): string {
  return podTemplateHash(ds.spec?.template, ds.status?.collisionCount);
}

/** The hash a revision's pods carry (its label, or its name for revisions made without it). */
export function hashOfRevision(revision: ControllerRevision): string {
  return revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? revision.metadata?.name ?? '';
}

export function maxRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0);
}

/** Old revisions beyond revisionHistoryLimit that no pod uses any more, lowest first. */
export function revisionsToDelete(ds: DaemonSet, old: readonly ControllerRevision[], liveHashes: ReadonlySet<string>): ControllerRevision[] {
  const limit = ds.spec?.revisionHistoryLimit ?? 10;
  let excess = old.length - limit;
  if (excess <= 0) return [];
  const out: ControllerRevision[] = [];
  for (const r of [...old].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0))) {
    if (excess <= 0) break;
    if (liveHashes.has(hashOfRevision(r))) continue;
    out.push(r);
    excess--;
  }
  return out;
}
