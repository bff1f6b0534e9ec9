// Scaling a Deployment that is not rolling out, or is scaled in the middle of a rollout
// (pkg/controller/deployment/sync.go `scale`): with one active ReplicaSet it simply takes the new
// size; otherwise every active ReplicaSet grows or shrinks in proportion to its share of the
// size recorded in its max-replicas annotation, the rounding leftover going to the largest, so
// that a rollout in progress keeps its balance.

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { desiredReplicasAnnotation, maxReplicasAnnotation } from './annotations.js';
import { activeReplicaSets, byCreation, bySizeNewer, bySizeOlder, replicaCount, specReplicas } from './replicasets.js';
import type { ScaleStep } from './rolling.js';
import { desiredReplicas, isRollingUpdate, maxSurge } from './surge.js';

/** Go's math.Round: halves away from zero. */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** A scaling event: an active ReplicaSet was sized for a different replica count (isScalingEvent). */
export function isScalingEvent(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
  return activeReplicaSets([...oldRSs, newRS]).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== desiredReplicas(d);
  });
}

/** The new ReplicaSet runs everything, fully available (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicas(d);
  return specReplicas(rs) === desired && desiredReplicasAnnotation(rs) === desired && (rs.status?.availableReplicas ?? 0) === desired;
}

/** The only active ReplicaSet, or the newest if none is active; undefined with several active. */
export function activeOrLatest<T extends ReplicaSet>(newRS: T | undefined, oldRSs: readonly T[]): T | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort(byCreation).reverse();
  const active = activeReplicaSets<T>([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** How many replicas `rs` would gain (or lose) if scaled in proportion (getReplicaSetFraction). */
function fraction(rs: ReplicaSet, d: Deployment): number {
  const desired = desiredReplicas(d);
  if (desired === 0) return -specReplicas(rs);
  const total = desired + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (annotated <= 0) return 0;
  return roundHalfAwayFromZero((specReplicas(rs) * total) / annotated) - specReplicas(rs);
}

/** This ReplicaSet's share of `toAdd`, never beyond what is left to add or remove. */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const share = fraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(share, allowed) : Math.max(share, allowed);
}

/**
 * The sizes to give the Deployment's ReplicaSets for a scaling event. Steps may leave a size
 * unchanged: the controller still refreshes that ReplicaSet's replica annotations.
 */
export function planScale<T extends ReplicaSet>(d: Deployment, newRS: T | undefined, oldRSs: readonly T[]): ScaleStep<T>[] {
  const desired = desiredReplicas(d);
  const only = activeOrLatest(newRS, oldRSs);
  if (only) return specReplicas(only) === desired ? [] : [{ rs: only, replicas: desired }];
  if (isSaturated(d, newRS)) return activeReplicaSets<T>(oldRSs).map((rs) => ({ rs, replicas: 0 }));
  if (!isRollingUpdate(d)) return [];

  const active = activeReplicaSets<T>([...oldRSs, newRS]);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(active);
  if (toAdd > 0) active.sort(bySizeNewer);
  else if (toAdd < 0) active.sort(bySizeOlder);
  let added = 0;
  const sizes = active.map((rs) => {
    if (toAdd === 0) return specReplicas(rs);
    const p = proportion(rs, d, toAdd, added);
    added += p;
    return specReplicas(rs) + p;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added);
  return active.map((rs, i) => ({ rs, replicas: sizes[i]! }));
}
