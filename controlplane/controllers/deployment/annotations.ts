// The annotations through which a Deployment and its ReplicaSets record history: the revision
// (`kubectl rollout history/undo` read it), the revisions a ReplicaSet had before a rollback made
// it current again, and the replica counts the proportional scaler reads
// (pkg/controller/deployment/util).

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { maxSurge, desiredReplicas } from './surge.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';

/** kube-controller-manager's default cap on the revision-history annotation. */
export const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations that are the controller's own and not copied onto ReplicaSets. */
const NOT_COPIED = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

export type Annotations = Record<string, string>;

function parseIntStrict(text: string | undefined): number | undefined {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The revision of a ReplicaSet or Deployment; 0 when absent or not a number. */
export function revisionOf(obj: { metadata?: { annotations?: Annotations } }): number {
  return parseIntStrict(obj.metadata?.annotations?.[REVISION_ANNOTATION]) ?? 0;
}

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return parseIntStrict(rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
}

export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return parseIntStrict(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]);
}

/** Sets desired-replicas and max-replicas; returns whether anything changed. */
export function setReplicasAnnotations(annotations: Annotations, desired: number, max: number): boolean {
  let changed = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/** The replica annotations a ReplicaSet of `d` should carry. */
export function replicasAnnotationsFor(d: Deployment): { desired: number; max: number } {
  const desired = desiredReplicas(d);
  return { desired, max: desired + maxSurge(d) };
}

/**
 * Brings the annotations of the Deployment's new ReplicaSet up to date (SetNewReplicaSetAnnotations):
 * copies the Deployment's own annotations, raises the revision to `newRevision` if it is lower
 * (remembering the previous revision in revision-history: that is a rollback), and for a
 * ReplicaSet about to be created adds the replica annotations. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  annotations: Annotations,
  newRevision: number,
  exists: boolean,
  maxHistoryChars = MAX_REVISION_HISTORY_CHARS,
): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(d.metadata?.annotations ?? {})) {
    if (NOT_COPIED.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldText = annotations[REVISION_ANNOTATION];
  const oldRevision = oldText === undefined || oldText === '' ? 0 : parseIntStrict(oldText);
  // An unparsable revision is left alone rather than guessed at.
  if (oldRevision === undefined) return changed;
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldText !== undefined && oldText !== '') appendRevisionHistory(annotations, oldText, maxHistoryChars);
  }
  if (!exists) {
    const { desired, max } = replicasAnnotationsFor(d);
    if (setReplicasAnnotations(annotations, desired, max)) changed = true;
  }
  return changed;
}

/** Appends `revision` to the comma-separated history, dropping the oldest entries to fit. */
function appendRevisionHistory(annotations: Annotations, revision: string, maxChars: number): void {
  const history = annotations[REVISION_HISTORY_ANNOTATION] ?? '';
  if (history === '') {
    annotations[REVISION_HISTORY_ANNOTATION] = revision;
    return;
  }
  const entries = history.split(',');
  let length = history.length + revision.length + 1;
  let start = 0;
  while (length > maxChars && start < entries.length) {
    length -= entries[start]!.length + 1;
    start++;
  }
  if (length <= maxChars) annotations[REVISION_HISTORY_ANNOTATION] = [...entries.slice(start), revision].join(',');
}
