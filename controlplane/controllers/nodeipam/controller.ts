// nodeipam (kube-controller-manager's range allocator): every Node gets a pod CIDR from the
// cluster CIDR (`spec.podCIDR` and `spec.podCIDRs`), one subnet per node and never one twice.
// What is used is derived from the Nodes themselves, so it survives restarts and failovers, and
// a subnet is free again once its Node is gone. When the range is exhausted the node gets a
// CIDRNotAvailable warning and waits (the agent waits for its CIDR) until a node leaves.

import type { Node } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../api/client.js';
import type { KubeObject } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { runWorkers, WorkQueue } from '../../../api/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import { logSyncError } from '../sync-errors.js';
import { CidrSet } from './cidr-set.js';

type NodeObject = Node & KubeObject;

const nodes = resourceFor('', 'nodes');

export interface NodeIpamOptions {
  clusterCidr: string;
  nodeCidrMaskSize: number;
}

export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export function nodeIpamController(options: NodeIpamOptions): Controller {
  const cidrs = new CidrSet(options.clusterCidr, options.nodeCidrMaskSize);
  return {
    name: 'nodeipam',
    // kube-controller-manager's range allocator records as `cidrAllocator`.
    component: 'cidrAllocator',
    run: (ctx, signal) => runNodeIpam(ctx, cidrs, signal),
  };
}

async function runNodeIpam(ctx: ControllerContext, cidrs: CidrSet, signal: AbortSignal): Promise<void> {
  const informer = ctx.informers.informer<NodeObject>(nodes);
  const queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  /** Subnet index → the node using it (as the informer or our own writes say). */
  const used = new Map<number, string>();

  const account = (node: NodeObject) => {
    const name = node.metadata?.name ?? '';
    for (const cidr of node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])) {
      const index = cidrs.indexOf(cidr);
      if (index !== undefined) used.set(index, name);
    }
  };
  const release = (node: NodeObject) => {
    const name = node.metadata?.name ?? '';
    for (const [index, owner] of used) if (owner === name) used.delete(index);
  };
  const waiting = () => informer.list((n) => !n.spec?.podCIDR).map((n) => n.metadata?.name ?? '');

  informer.on({
    add: (node) => {
      account(node);
      queue.add(node.metadata?.name ?? '');
    },
    update: (_old, node) => {
      account(node);
      if (!node.spec?.podCIDR) queue.add(node.metadata?.name ?? '');
    },
    delete: (node) => {
      release(node);
      // A subnet came free: nodes that found the range exhausted may get it.
      for (const name of waiting()) queue.add(name);
    },
  });

  async function reconcile(name: string): Promise<void> {
    const node = informer.getByName(undefined, name);
    if (!node || node.spec?.podCIDR) return;
    // A node we gave a subnet to, whose update the informer has not delivered yet, keeps it.
    let index = [...used].find(([, owner]) => owner === name)?.[0];
    index ??= cidrs.firstFree(used);
    if (index === undefined) {
      ctx.recorder.event(node, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      ctx.logger.warn({ node: name, clusterCidr: cidrs.clusterCidr }, 'no pod CIDR left for the node');
      return;
    }
    used.set(index, name);
    const podCIDR = cidrs.subnet(index);
    try {
      await ctx.client.patch(nodes, undefined, name, {
        metadata: { resourceVersion: node.metadata?.resourceVersion },
        spec: { podCIDR, podCIDRs: [podCIDR] },
      });
      ctx.logger.info({ node: name, podCIDR }, 'assigned pod CIDR');
    } catch (err) {
      if (used.get(index) === name) used.delete(index);
      if (isNotFound(err)) return;
      // A conflict means the node changed meanwhile: the retry reads it again.
      throw err;
    }
  }

  try {
    await ctx.informers.waitForSync(signal);
  } catch {
    return;
  }
  // One worker: allocations happen one at a time, so two nodes never pick the same subnet.
  await runWorkers(queue, 1, reconcile, signal, (key, err) => logSyncError(ctx.logger, err, { node: key }, 'pod CIDR allocation failed; retrying'));
}
