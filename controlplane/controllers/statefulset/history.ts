// A StatefulSet's revisions, kept as ControllerRevisions as Kubernetes keeps them: each holds a
// template as the patch `{"spec":{"template":{..., "$patch":"replace"}}}` (the form the
// DaemonSet's revisions share, daemonset/history.ts), is named `<set>-<hash>`, and has a revision
// number. Pods carry the revision's *name* in their controller-revision-hash label, and the
// set's status names its current and update revisions. `kubectl rollout history|undo sts` read
// these; undo patches the set with a revision's data.

import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy } from '../../../api/objects.js';
import { maxRevisionNumber, revisionData, revisionMatches } from '../daemonset/history.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../daemonset/pod-template.js';
import { podTemplateHash } from '../deployment/hash.js';
import { newControllerRef } from '../ownership/controller-ref.js';

export type RevisionObject = ControllerRevision & KubeObject;

/** What daemonset/history.ts reads of its owner: only spec.template. */
function templateOwner(set: StatefulSet): DaemonSet {
  return { spec: set.spec };
}

/** Whether `revision` holds the set's current template (history.EqualRevision). */
export function holdsTemplateOf(set: StatefulSet, revision: ControllerRevision): boolean {
  return revisionMatches(templateOwner(set), revision);
}

/** Oldest first: by revision number, then creation time, then name (SortControllerRevisions). */
export function sortRevisions<T extends ControllerRevision>(revisions: readonly T[]): T[] {
  return [...revisions].sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
}

/** The template a revision holds: what its patch puts in spec.template (ApplyRevision). */
export function revisionTemplate(revision: ControllerRevision): PodTemplateSpec {
  const data = revision.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _replace, ...template } = deepCopy(data?.spec?.template ?? {});
  return template as PodTemplateSpec;
}

/** The revision of the set's current template, numbered `revision` (newRevision). */
export function newRevision(set: StatefulSet & KubeObject, revision: number, collisionCount: number): RevisionObject {
  const hash = podTemplateHash(set.spec?.template, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${set.metadata?.name}-${hash}`,
      namespace: set.metadata?.namespace ?? '',
      labels: { ...set.spec?.template?.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      annotations: { ...set.metadata?.annotations },
      ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    data: revisionData(templateOwner(set)),
    revision,
  };
}

/** Where the update revision comes from (getStatefulSetRevisions). */
export type UpdateRevisionSource<T> =
  /** The newest revision holds the template: nothing changed. */
  | { kind: 'newest'; revision: T }
  /** An older one does (a rollback): it becomes the newest, renumbered `to`. */
  | { kind: 'renumber'; revision: T; to: number }
  /** None does: a new revision numbered `number`. */
  | { kind: 'create'; number: number };

/** @param sorted the set's revisions, oldest first */
export function updateRevisionSource<T extends ControllerRevision>(set: StatefulSet, sorted: readonly T[]): UpdateRevisionSource<T> {
  const next = maxRevisionNumber(sorted) + 1;
  const equal = sorted.filter((r) => holdsTemplateOf(set, r));
  const newestEqual = equal[equal.length - 1];
  if (!newestEqual) return { kind: 'create', number: next };
  if (newestEqual === sorted[sorted.length - 1]) return { kind: 'newest', revision: newestEqual };
  return { kind: 'renumber', revision: newestEqual, to: next };
}

/**
 * The revisions to delete so that at most revisionHistoryLimit (default 10; negative: no limit)
 * are kept besides the live ones (the current and update revisions, and those of existing pods),
 * oldest first (truncateHistory).
 * @param sorted the set's revisions, oldest first
 * @param live names of the live revisions
 */
export function revisionsToTruncate<T extends ControllerRevision>(set: StatefulSet, sorted: readonly T[], live: ReadonlySet<string>): T[] {
  const limit = set.spec?.revisionHistoryLimit ?? 10;
  const history = sorted.filter((r) => !live.has(r.metadata?.name ?? ''));
  if (limit < 0 || history.length <= limit) return [];
  return history.slice(0, history.length - limit);
}
