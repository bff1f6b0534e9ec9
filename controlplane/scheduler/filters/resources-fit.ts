// NodeResourcesFit: the pod's requests must fit in the node's allocatable resources minus what
// the pods already bound (or assumed) there request; and the node must have room for one more
// pod. Every shortage is a reason of its own ("Too many pods", "Insufficient cpu", ...).

import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';

export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

const INSUFFICIENT_CPU = insufficient('cpu');
const INSUFFICIENT_MEMORY = insufficient('memory');

export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  forPod(pod) {
    const cpu = pod.requests.get('cpu') ?? 0;
    const memory = pod.requests.get('memory') ?? 0;
    // cpu and memory first (read from the node's plain fields), then the rest in a stable order,
    // as kube-scheduler reports them.
    const others = [...pod.requests].filter(([name, amount]) => amount > 0 && name !== 'pods' && name !== 'cpu' && name !== 'memory');
    others.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return (node) => {
      let reasons: string[] | undefined;
      if (node.podCount + 1 > node.allocatablePods) (reasons ??= []).push(REASON_TOO_MANY_PODS);
      if (cpu > 0 && cpu > node.allocatableMilliCpu - node.requestedMilliCpu) (reasons ??= []).push(INSUFFICIENT_CPU);
      if (memory > 0 && memory > node.allocatableMemory - node.requestedMemory) (reasons ??= []).push(INSUFFICIENT_MEMORY);
      for (const [name, amount] of others) {
        const free = (node.allocatable.get(name) ?? 0) - (node.requested.get(name) ?? 0);
        if (amount > free) (reasons ??= []).push(insufficient(name));
      }
      return reasons ?? FITS;
    };
  },
};

function rank(resource: string): number {
  return resource === 'ephemeral-storage' ? 0 : 1;
}
