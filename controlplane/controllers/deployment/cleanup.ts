// revisionHistoryLimit: a Deployment keeps that many old ReplicaSets (scaled to zero) for
// `kubectl rollout undo`, and deletes the lowest revisions beyond it (cleanupDeployment).

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { byRevision, specReplicas } from './replicasets.js';

export function replicaSetsToCleanUp<T extends ReplicaSet>(d: Deployment, oldRSs: readonly T[]): T[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === 2147483647) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const excess = alive.length - limit;
  if (excess <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, excess)
    // Only ReplicaSets that are scaled down, have no pods left, and whose controller has seen
    // that (a ReplicaSet still shrinking must finish first).
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && specReplicas(rs) === 0 && (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}
