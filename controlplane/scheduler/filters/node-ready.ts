// NodeReady: a node whose Ready condition is not True takes only pods that tolerate the taint
// Kubernetes puts on such nodes (TaintNodesByCondition): `node.kubernetes.io/not-ready:NoSchedule`
// while Ready is False or not yet reported, `node.kubernetes.io/unreachable:NoSchedule` while it
// is Unknown. Judging by the condition itself keeps a fresh or failed node free of pods even
// before the node lifecycle controller has written the taint; the reason reads as the taint's.

import type { Taint } from 'kubernetes-types/core/v1.js';
import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { describeTaint, TAINT_NOT_READY, TAINT_UNREACHABLE, tolerates } from '../tolerations.js';

const NOT_READY: Taint = { key: TAINT_NOT_READY, effect: 'NoSchedule' };
const UNREACHABLE: Taint = { key: TAINT_UNREACHABLE, effect: 'NoSchedule' };
const NOT_READY_REASON = [`node(s) had untolerated taint ${describeTaint(NOT_READY)}`];
const UNREACHABLE_REASON = [`node(s) had untolerated taint ${describeTaint(UNREACHABLE)}`];

/** The condition taint a node's Ready condition implies, if any. */
export function conditionTaint(node: NodeInfo): Taint | undefined {
  if (node.ready === 'True') return undefined;
  const reported = node.node?.status?.conditions?.some((c) => c.type === 'Ready') ?? false;
  return node.ready === 'Unknown' && reported ? UNREACHABLE : NOT_READY;
}

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  forPod(pod, cluster) {
    if (cluster.nodeCounts.notReady === 0) return undefined;
    const toleratesNotReady = tolerates(pod.tolerations, NOT_READY);
    const toleratesUnreachable = tolerates(pod.tolerations, UNREACHABLE);
    return (node) => {
      const taint = conditionTaint(node);
      if (taint === NOT_READY && !toleratesNotReady) return NOT_READY_REASON;
      if (taint === UNREACHABLE && !toleratesUnreachable) return UNREACHABLE_REASON;
      return FITS;
    };
  },
};
