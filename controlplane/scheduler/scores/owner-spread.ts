// Spreading: the pods of one controller (ReplicaSet, Job, StatefulSet...) prefer the nodes where
// that controller has the fewest pods, in the manner of kube-scheduler's SelectorSpread (and of
// PodTopologySpread's default hostname constraint). Assumed pods count, so a burst of replicas
// spreads too.

import { MAX_NODE_SCORE } from '../framework.js';
import type { ScorePlugin } from '../framework.js';

export const ownerSpreadScore: ScorePlugin = {
  name: 'OwnerSpread',
  weight: 2,
  forPod(pod, cluster) {
    if (!pod.ownerUid) return undefined;
    // Looked up by node object, not by owner uid on each node: one string lookup per pod instead
    // of one per node.
    const counts = cluster.ownerPodsPerNode(pod.ownerUid);
    return {
      score: (node) => counts.get(node) ?? 0,
      normalize(scores) {
        let max = 0;
        for (const s of scores) if (s > max) max = s;
        for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - scores[i]!)) / max);
      },
    };
  },
};
