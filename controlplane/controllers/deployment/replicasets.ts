// A Deployment's ReplicaSets: which one is new (its template equals the Deployment's), which are
// old, how they sort, and the replica sums the rollout arithmetic uses.

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { revisionOf } from './annotations.js';
import { templatesEqualIgnoringHash } from './hash.js';

function created(rs: ReplicaSet): number {
  const t = Date.parse(rs.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

function byName(a: ReplicaSet, b: ReplicaSet): number {
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Oldest first; same second: by name (ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || byName(a, b);
}

/** Lowest revision first; same revision: oldest first (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** Largest first; same size: newest first (ReplicaSetsBySizeNewer, for scaling up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** Largest first; same size: oldest first (ReplicaSetsBySizeOlder, for scaling down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

export function specReplicas(rs: ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

/** The oldest ReplicaSet whose template is the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet<T extends ReplicaSet>(d: Deployment, replicaSets: readonly T[]): T | undefined {
  return [...replicaSets].sort(byCreation).find((rs) => templatesEqualIgnoringHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet except the new one. */
export function oldReplicaSets<T extends ReplicaSet>(replicaSets: readonly T[], newRS: T | undefined): T[] {
  return replicaSets.filter((rs) => rs !== newRS && rs.metadata?.uid !== newRS?.metadata?.uid);
}

/** ReplicaSets asked to run at least one pod. */
export function activeReplicaSets<T extends ReplicaSet>(replicaSets: readonly (T | undefined)[]): T[] {
  return replicaSets.filter((rs): rs is T => rs !== undefined && specReplicas(rs) > 0);
}

/** Sum of spec.replicas. */
export function replicaCount(replicaSets: readonly (ReplicaSet | undefined)[]): number {
  return replicaSets.reduce((n, rs) => n + specReplicas(rs), 0);
}

/** Sum of status.replicas (pods that exist). */
export function actualReplicaCount(replicaSets: readonly (ReplicaSet | undefined)[]): number {
  return replicaSets.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(replicaSets: readonly (ReplicaSet | undefined)[]): number {
  return replicaSets.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(replicaSets: readonly (ReplicaSet | undefined)[]): number {
  return replicaSets.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}
