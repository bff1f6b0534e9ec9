// NodeResourcesFit's LeastAllocated score: prefer nodes with the most room left, averaged over
// cpu and memory, counting containers without requests at kube-scheduler's defaults
// (100m, 200 MiB) so that a node full of request-less pods does not look empty.

import { MAX_NODE_SCORE } from '../framework.js';
import type { ScorePlugin } from '../framework.js';

function leastAllocated(requested: number, allocatable: number): number {
  if (allocatable <= 0 || requested > allocatable) return 0;
  return Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
}

export const leastAllocatedScore: ScorePlugin = {
  name: 'LeastAllocated',
  weight: 1,
  forPod(pod) {
    return {
      score(node) {
        const cpu = leastAllocated(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocatableMilliCpu);
        const memory = leastAllocated(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
        return Math.floor((cpu + memory) / 2);
      },
    };
  },
};
