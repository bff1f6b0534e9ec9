// NodePorts: a host port (protocol, port, IP) can be used by one pod per node; 0.0.0.0 conflicts
// with every IP.

import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';

export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
const TAKEN = [REASON_PORTS];

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  forPod(pod) {
    if (pod.hostPorts.length === 0) return undefined;
    return (node) => (pod.hostPorts.some((hp) => node.hostPortInUse(hp)) ? TAKEN : FITS);
  },
};
