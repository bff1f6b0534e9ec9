// A Deployment's status from its ReplicaSets (calculateStatus and syncRolloutStatus): the
// counts `kubectl rollout status` compares, the Available condition from maxUnavailable, and
// the Progressing condition that moves on with every sign of progress and turns into
// ProgressDeadlineExceeded when there was none for progressDeadlineSeconds.

import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  REASON,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  newCondition,
  removeCondition,
  setCondition,
} from './conditions.js';
import { actualReplicaCount, availableReplicaCount, readyReplicaCount, replicaCount } from './replicasets.js';
import { desiredReplicas, maxUnavailable } from './surge.js';

type MutableStatus = { -readonly [K in keyof DeploymentStatus]: DeploymentStatus[K] };

/** Counts and the Available condition (calculateStatus). */
export function calculateStatus(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const status: MutableStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicaCount(allRSs) - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  let conditions: DeploymentCondition[] = [...(d.status?.conditions ?? [])];
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    conditions = setCondition(conditions, newCondition('Available', 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    conditions = setCondition(conditions, newCondition('Available', 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  status.conditions = conditions;
  // Zero counts are left out, as Kubernetes' JSON (omitempty) leaves them out.
  for (const key of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (status[key] === 0) delete status[key];
  }
  return status;
}

export interface RolloutStatus {
  status: DeploymentStatus;
  /** When to look again for a progress deadline, if no event will say (requeueStuckDeployment). */
  recheckAfterMs?: number;
}

/** The status after a rollout step, Progressing condition included (syncRolloutStatus). */
export function rolloutStatus(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, nowMs: number): RolloutStatus {
  const status = calculateStatus(d, allRSs, newRS, nowMs) as MutableStatus;
  let conditions = [...(status.conditions ?? [])];
  if (!hasProgressDeadline(d)) conditions = removeCondition(conditions, 'Progressing');

  const current = getCondition(d.status, 'Progressing');
  // Once a rollout completed, a resync has no progress to estimate.
  const completedBefore = status.replicas === status.updatedReplicas && current?.reason === REASON.newReplicaSetAvailable;
  if (hasProgressDeadline(d) && !completedBefore) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata?.name}"` : `Deployment "${d.metadata?.name}"`;
    if (deploymentComplete(d, status)) {
      conditions = setCondition(conditions, newCondition('Progressing', 'True', REASON.newReplicaSetAvailable, `${subject} has successfully progressed.`, nowMs));
    } else if (deploymentProgressing(d, status)) {
      // Progress refreshes lastUpdateTime (restarting the deadline) but keeps the transition time.
      let cond = newCondition('Progressing', 'True', REASON.replicaSetUpdated, `${subject} is progressing.`, nowMs);
      if (current?.status === 'True') cond = { ...cond, lastTransitionTime: current.lastTransitionTime };
      conditions = [...removeCondition(conditions, 'Progressing'), cond];
    } else if (deploymentTimedOut(d, { ...status, conditions }, nowMs)) {
      conditions = setCondition(conditions, newCondition('Progressing', 'False', REASON.progressDeadlineExceeded, `${subject} has timed out progressing.`, nowMs));
    }
  }

  // A ReplicaSet that cannot create pods says why (the new one's failure first).
  const failure = replicaFailure(allRSs, newRS);
  conditions = failure ? setCondition(conditions, failure) : removeCondition(conditions, 'ReplicaFailure');
  status.conditions = conditions;
  return { status, recheckAfterMs: stuckRecheck(d, status, nowMs) };
}

function replicaFailure(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition | undefined {
  for (const rs of [newRS, ...allRSs]) {
    const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    if (c) return { type: 'ReplicaFailure', status: c.status, reason: c.reason, message: c.message, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime };
  }
  return undefined;
}

/** A rollout that stopped moving is looked at again when its deadline would pass. */
function stuckRecheck(d: Deployment, status: DeploymentStatus, nowMs: number): number | undefined {
  const cond = getCondition(status, 'Progressing');
  if (!hasProgressDeadline(d) || !cond) return undefined;
  if (deploymentComplete(d, status) || cond.reason === REASON.progressDeadlineExceeded) return undefined;
  const updated = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(updated)) return undefined;
  const after = updated + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  // Timestamps have whole seconds: look a little after the deadline so it has surely passed.
  return Math.max(after, 0) + 1000;
}

/** Whether writing `next` would change what the API shows. */
export function statusDiffers(current: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  const c = current ?? {};
  const numbers = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'] as const;
  if (numbers.some((k) => (c[k] ?? 0) !== (next[k] ?? 0))) return true;
  return JSON.stringify(c.conditions ?? []) !== JSON.stringify(next.conditions ?? []);
}
