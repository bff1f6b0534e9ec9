// A StatefulSet's status as Kubernetes computes it: counts over the pods it owns, the current
// and update revisions, and the collision count. A rolling update is complete (the update
// revision becomes the current one) once every pod is updated and ready (completeRollingUpdate).
// `kubectl rollout status sts` reads observedGeneration, readyReplicas, updatedReplicas and the
// two revisions.

import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../../../api/objects.js';
import { podRevision } from './identity.js';
import { isRunningAndAvailable, isRunningAndReady, isTerminating } from './pod-health.js';

export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** Pods of the current revision that are not terminating. */
  currentReplicas: number;
  /** Pods of the update revision that are not terminating. */
  updatedReplicas: number;
}

/** Counts over the set's pods (computeReplicaStatus). */
export function replicaCounts(pods: readonly Pod[], minReadySeconds: number, currentRevision: string, updateRevision: string, nowMs: number): ReplicaCounts {
  const counts: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    counts.replicas++;
    if (isRunningAndReady(pod)) counts.readyReplicas++;
    if (isRunningAndAvailable(pod, minReadySeconds, nowMs)) counts.availableReplicas++;
    if (isTerminating(pod)) continue;
    const revision = podRevision(pod);
    if (revision === currentRevision) counts.currentReplicas++;
    if (revision === updateRevision) counts.updatedReplicas++;
  }
  return counts;
}

export interface Revisions {
  current: string;
  update: string;
  collisionCount: number;
}

/**
 * The status to write.
 * @param observedGeneration the generation this sync acted on (or the one observed before)
 */
export function statefulSetStatus(set: StatefulSet, counts: ReplicaCounts, revisions: Revisions, observedGeneration: number | undefined): StatefulSetStatus {
  let { currentReplicas } = counts;
  let currentRevision = revisions.current;
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && counts.updatedReplicas === counts.replicas && counts.readyReplicas === counts.replicas) {
    currentReplicas = counts.updatedReplicas;
    currentRevision = revisions.update;
  }
  // Zero counts are left out as Kubernetes' JSON leaves them out (omitempty), except these two.
  const status: Mutable<StatefulSetStatus> = { replicas: counts.replicas, availableReplicas: counts.availableReplicas };
  if (observedGeneration) status.observedGeneration = observedGeneration;
  if (counts.readyReplicas) status.readyReplicas = counts.readyReplicas;
  if (currentReplicas) status.currentReplicas = currentReplicas;
  if (counts.updatedReplicas) status.updatedReplicas = counts.updatedReplicas;
  status.currentRevision = currentRevision;
  status.updateRevision = revisions.update;
  status.collisionCount = revisions.collisionCount;
  if (set.status?.conditions?.length) status.conditions = set.status.conditions;
  return status;
}

/** Whether writing `next` would change what the API shows (inconsistentStatus). */
export function statefulSetStatusDiffers(current: StatefulSetStatus | undefined, next: StatefulSetStatus): boolean {
  const c = current ?? { replicas: 0 };
  const counts = ['replicas', 'readyReplicas', 'availableReplicas', 'currentReplicas', 'updatedReplicas', 'observedGeneration', 'collisionCount'] as const;
  return counts.some((k) => (c[k] ?? 0) !== (next[k] ?? 0)) || c.currentRevision !== next.currentRevision || c.updateRevision !== next.updateRevision;
}
