// NodeResourcesFit: the pod's requests must fit in the node's allocatable resources minus what
// the pods already bound (or assumed) there request; and the node must have room for one more
// pod. Every shortage is a reason of its own ("Too many pods", "Insufficient cpu", ...).

import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';

export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  forPod(pod) {
    // cpu and memory first, then the rest in a stable order, as kube-scheduler reports them.
    const wanted = [...pod.requests].filter(([name, amount]) => amount > 0 && name !== 'pods');
    wanted.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return (node) => {
      let reasons: string[] | undefined;
      if (node.podCount + 1 > (node.allocatable.get('pods') ?? 0)) (reasons ??= []).push(REASON_TOO_MANY_PODS);
      for (const [name, amount] of wanted) {
        const free = (node.allocatable.get(name) ?? 0) - (node.requested.get(name) ?? 0);
        if (amount > free) (reasons ??= []).push(insufficient(name));
      }
      return reasons ?? FITS;
    };
  },
};

function rank(resource: string): number {
  return resource === 'cpu' ? 0 : resource === 'memory' ? 1 : resource === 'ephemeral-storage' ? 2 : 3;
}
