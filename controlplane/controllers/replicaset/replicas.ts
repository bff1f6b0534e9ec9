// The ReplicaSet's one decision: how many pods to create, or which pods to delete, to bring the
// active pods it owns to spec.replicas (ReplicaSetController.manageReplicas). At most
// `burstReplicas` pods change in one sync, as kube-controller-manager's --replicaset burst (500).

import type { Pod } from 'kubernetes-types/core/v1.js';
import { podsToDelete } from '../pods/pod-ordering.js';

export const BURST_REPLICAS = 500;

export type ReplicaAction = { kind: 'create'; count: number } | { kind: 'delete'; pods: Pod[] } | { kind: 'none' };

/**
 * @param activePods the active pods the ReplicaSet owns
 * @param relatedPods the pods of every ReplicaSet with the same owner, for the deletion ranking
 */
export function planReplicas(replicas: number, activePods: readonly Pod[], relatedPods: readonly Pod[], nowMs: number, burst = BURST_REPLICAS): ReplicaAction {
  const diff = activePods.length - replicas;
  if (diff < 0) return { kind: 'create', count: Math.min(-diff, burst) };
  if (diff > 0) return { kind: 'delete', pods: podsToDelete(activePods, relatedPods, Math.min(diff, burst), nowMs) };
  return { kind: 'none' };
}
