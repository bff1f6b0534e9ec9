// The message of a pod that fits nowhere, worded as kube-scheduler's FitError: how many nodes
// there are, then each reason with the number of nodes it applies to, sorted as text.
//   0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: },
//   2 node(s) didn't match Pod's node affinity/selector.

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export function fitErrorMessage(totalNodes: number, reasonCounts: ReadonlyMap<string, number>): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE;
  const parts = [...reasonCounts].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${totalNodes} nodes are available: ${parts.join(', ')}.`;
}
