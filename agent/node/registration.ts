// Registering the node: the Node object is created when it does not exist (with the well-known
// labels kubernetes.io/hostname, /os and /arch, which the kubelet sets), or adopted and its
// labels brought up to date when it does (a restarted agent, or a node re-joining).

import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../api/client.js';
import { isAlreadyExists, isNotFound } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { MachineInfo } from './machine.js';

export const nodes = resourceFor('', 'nodes');

export function nodeLabels(nodeName: string, machine: MachineInfo): Record<string, string> {
  return {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': machine.operatingSystem,
    'kubernetes.io/arch': machine.architecture,
    'beta.kubernetes.io/os': machine.operatingSystem,
    'beta.kubernetes.io/arch': machine.architecture,
  };
}

type NodeObject = Node & KubeObject;

export async function registerNode(client: KubeClient, nodeName: string, machine: MachineInfo): Promise<NodeObject> {
  const labels = nodeLabels(nodeName, machine);
  try {
    const existing = await client.get<NodeObject>(nodes, undefined, nodeName);
    const missing = Object.entries(labels).some(([k, v]) => existing.metadata?.labels?.[k] !== v);
    if (!missing) return existing;
    return await client.patch<NodeObject>(nodes, undefined, nodeName, { metadata: { labels } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    return await client.create<NodeObject>(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels }, spec: {} } as NodeObject);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return client.get<NodeObject>(nodes, undefined, nodeName);
  }
}
