// NodeUnschedulable: a cordoned node (`spec.unschedulable`, `kubectl cordon`) takes no new pods,
// except pods that tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint (DaemonSet
// pods do).

import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';
import { TAINT_UNSCHEDULABLE, tolerates } from '../tolerations.js';

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE = [REASON_UNSCHEDULABLE];

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  forPod(pod, cluster) {
    if (cluster.nodeCounts.cordoned === 0 || tolerates(pod.tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })) return undefined;
    return (node) => (node.unschedulable ? UNSCHEDULABLE : FITS);
  },
};
