// TaintToleration's score: PreferNoSchedule taints the pod does not tolerate make a node less
// attractive, the more of them the less.

import type { Toleration } from 'kubernetes-types/core/v1.js';
import { MAX_NODE_SCORE } from '../framework.js';
import type { ScorePlugin } from '../framework.js';
import { tolerates } from '../tolerations.js';

export const taintPreferenceScore: ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  forPod(pod, cluster) {
    // Without such taints every node scores the same, which changes no choice.
    if (cluster.nodeCounts.preferNoScheduleTainted === 0) return undefined;
    // Only tolerations that could apply to PreferNoSchedule count (kube-scheduler's rule).
    const relevant: Toleration[] = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    return {
      score(node) {
        let count = 0;
        for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !tolerates(relevant, taint)) count++;
        return count;
      },
      normalize(scores) {
        let max = 0;
        for (const s of scores) if (s > max) max = s;
        for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.floor((scores[i]! * MAX_NODE_SCORE) / max);
      },
    };
  },
};
