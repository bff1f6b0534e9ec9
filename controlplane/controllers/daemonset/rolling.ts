// A DaemonSet's rolling update (pkg/controller/daemon/update.go rollingUpdate). Without surge it
// deletes old pods, at most maxUnavailable nodes at a time counting nodes whose pod is missing or
// not yet available, and lets the placement loop create the new ones. With surge it first
// creates a new pod next to an old one on up to maxSurge nodes and deletes the old pod once the
// new one is available. Old pods that are not available are replaced at once either way.

import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodAvailable } from '../pods/pod-state.js';
import { isPodUpdated, templateGeneration } from './pod-template.js';
import { surgeCount, unavailableCount } from './placement.js';

export interface RollingPlan {
  deletePods: Pod[];
  createOnNodes: string[];
}

/** The node's one new and one old pod; `ok: false` when there are more (the placement loop fixes that). */
export function updatedAndOldPod(ds: DaemonSet, pods: readonly Pod[], hash: string): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  const generation = templateGeneration(ds);
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

/** maxSurge and maxUnavailable against the number of nodes that should run the daemon. */
export function rollingLimits(ds: DaemonSet, desiredNodes: number): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = surgeCount(ds, desiredNodes);
  let maxUnavailable = unavailableCount(ds, desiredNodes);
  // Validation forbids both being 0; should it happen, allow one node at a time.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/**
 * @param nodeToPods the DaemonSet's pods by node, with an (empty) entry for every node that
 *   should run the daemon
 * @param shouldRun whether a node should run the daemon now
 */
export function planRollingUpdate(
  ds: DaemonSet,
  hash: string,
  nodeToPods: ReadonlyMap<string, readonly Pod[]>,
  desiredNodes: number,
  shouldRun: (node: string) => boolean,
  nowMs: number,
): RollingPlan {
  const { maxSurge, maxUnavailable } = rollingLimits(ds, desiredNodes);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (pod: Pod) => isPodAvailable(pod, minReady, nowMs);
  const nodes = [...nodeToPods.keys()].sort();

  if (maxSurge === 0) {
    let unavailable = 0;
    const replacements: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of nodes) {
      const { newPod, oldPod, ok } = updatedAndOldPod(ds, nodeToPods.get(node) ?? [], hash);
      if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
        // Missing, duplicated or mid-replacement: counts as unavailable.
        unavailable++;
      } else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod && !available(oldPod)) {
        // Replacing an unavailable pod costs no availability.
        replacements.push(oldPod);
        unavailable++;
      } else if (oldPod && unavailable < maxUnavailable) {
        candidates.push(oldPod);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    return { deletePods: [...replacements, ...candidates.slice(0, room)], createOnNodes: [] };
  }

  const oldToDelete: Pod[] = [];
  const leavingToDelete: Pod[] = [];
  const candidateNodes: string[] = [];
  const replacementNodes: string[] = [];
  let surging = 0;
  let availableNodes = 0;
  for (const node of nodes) {
    const { newPod, oldPod, ok } = updatedAndOldPod(ds, nodeToPods.get(node) ?? [], hash);
    if (!ok) {
      surging++;
      continue;
    }
    if ((oldPod && available(oldPod)) || (newPod && available(newPod))) availableNodes++;
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        // An unavailable old pod is replaced at once, unless the node must lose the daemon anyway.
        if (!shouldRun(node)) leavingToDelete.push(oldPod);
        else replacementNodes.push(node);
      } else if (surging < maxSurge) {
        candidateNodes.push(node);
      }
      continue;
    }
    if (!available(newPod)) surging++;
    else oldToDelete.push(oldPod);
  }
  // With surge users expect full availability: a node that must lose its pod keeps it while the
  // other nodes are not all available.
  const deletable = availableNodes - desiredNodes;
  if (deletable > 0) oldToDelete.push(...leavingToDelete.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
  return { deletePods: oldToDelete, createOnNodes: [...replacementNodes, ...candidateNodes.slice(0, room)] };
}
