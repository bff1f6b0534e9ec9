// NodeAffinity's score: the weights of the pod's preferred node affinity terms that a node
// matches, scaled so that the best node scores 100.

import { MAX_NODE_SCORE } from '../framework.js';
import type { ScorePlugin } from '../framework.js';
import { nodeSelectorTermMatches } from '../filters/node-affinity.js';

export const nodeAffinityPreferenceScore: ScorePlugin = {
  name: 'NodeAffinityPreference',
  weight: 2,
  forPod(pod) {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return undefined;
    return {
      score(node) {
        let sum = 0;
        for (const term of preferred) if (term.weight && nodeSelectorTermMatches(term.preference, node)) sum += term.weight;
        return sum;
      },
      normalize(scores) {
        let max = 0;
        for (const s of scores) if (s > max) max = s;
        for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? 0 : Math.floor((scores[i]! * MAX_NODE_SCORE) / max);
      },
    };
  },
};
