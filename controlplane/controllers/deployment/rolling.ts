// The arithmetic of a rolling update (pkg/controller/deployment/rolling.go): how far the new
// ReplicaSet may grow within maxSurge, and how far the old ones may shrink within maxUnavailable,
// counting only available pods. Pure: the controller carries the steps out.

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { byCreation, replicaCount, specReplicas } from './replicasets.js';
import { desiredReplicas, maxSurge, maxUnavailable } from './surge.js';

export interface ScaleStep<T extends ReplicaSet = ReplicaSet> {
  rs: T;
  replicas: number;
}

/**
 * The size the new ReplicaSet may have now (NewRSNewReplicas): for a rolling update, as many as
 * keep all ReplicaSets together within desired + maxSurge, but never above desired; for
 * Recreate, the desired count.
 */
export function newReplicaSetReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): number {
  const desired = desiredReplicas(d);
  if (d.spec?.strategy?.type === 'Recreate') return desired;
  const current = specReplicas(newRS);
  const maxTotal = desired + maxSurge(d);
  const total = replicaCount(allRSs);
  if (total >= maxTotal) return current;
  return current + Math.min(maxTotal - total, desired - current);
}

/**
 * How to shrink the old ReplicaSets (reconcileOldReplicaSets): first drop their unavailable
 * pods (oldest ReplicaSet first) as far as the new ReplicaSet's own unavailable pods allow, then
 * scale down available pods while at least desired − maxUnavailable stay available.
 *
 * @param activeOldRSs old ReplicaSets with spec.replicas > 0
 */
export function scaleDownOldReplicaSets<T extends ReplicaSet>(d: Deployment, allRSs: readonly (T | undefined)[], activeOldRSs: readonly T[], newRS: T | undefined): ScaleStep<T>[] {
  if (replicaCount(activeOldRSs) === 0) return [];
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS?.status?.availableReplicas ?? 0);
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sorted = [...activeOldRSs].sort(byCreation);
  const sizes = new Map<T, number>(sorted.map((rs) => [rs, specReplicas(rs)]));

  // Unavailable old pods help nobody: remove them first.
  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.get(rs)!;
    const available = rs.status?.availableReplicas ?? 0;
    if (size === 0 || size <= available) continue;
    const n = Math.min(maxScaledDown - cleaned, size - available);
    sizes.set(rs, size - n);
    cleaned += n;
  }

  // Then available ones, as long as enough stay available.
  const available = [...activeOldRSs, newRS].reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of sorted) {
      if (scaled >= total) break;
      const size = sizes.get(rs)!;
      if (size === 0) continue;
      const n = Math.min(size, total - scaled);
      sizes.set(rs, size - n);
      scaled += n;
    }
  }
  return sorted.filter((rs) => sizes.get(rs) !== specReplicas(rs)).map((rs) => ({ rs, replicas: sizes.get(rs)! }));
}
