// TaintToleration: a node's NoSchedule and NoExecute taints must each be tolerated by the pod
// (PreferNoSchedule only lowers the node's score, see ../scores/taint-preference.ts).

import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';
import { describeTaint, firstUntoleratedTaint, HARD_TAINT_EFFECTS } from '../tolerations.js';

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  forPod(pod, cluster) {
    if (cluster.nodeCounts.noScheduleTainted === 0) return undefined;
    return (node) => {
      if (node.taints.length === 0) return FITS;
      const taint = firstUntoleratedTaint(node.taints, pod.tolerations, HARD_TAINT_EFFECTS);
      return taint ? [`node(s) had untolerated taint ${describeTaint(taint)}`] : FITS;
    };
  },
};
