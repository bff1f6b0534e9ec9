// nodepassword: when a Node is deleted, the Secret holding its node password and token
// (api/node-password.ts) goes too, as k3s deletes its node-password Secrets. The name is then
// free: a reinstalled machine (a new password) can join under it, and the deleted node's old
// token stops working. Only deletions seen while this controller runs are acted on: a Secret
// without a Node may belong to an agent that joined but has not registered yet.

import type { Node } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../api/client.js';
import { NODE_PASSWORD_NAMESPACE, nodePasswordSecretName } from '../../../api/node-password.js';
import type { KubeObject } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { runWorkers, WorkQueue } from '../../../api/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import { logSyncError } from '../sync-errors.js';

const nodes = resourceFor('', 'nodes');
const secrets = resourceFor('', 'secrets');

export function nodePasswordController(): Controller {
  return { name: 'nodepassword', run: (ctx, signal) => run(ctx, signal) };
}

async function run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
  const informer = ctx.informers.informer<Node & KubeObject>(nodes);
  const queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  informer.on({ delete: (node) => queue.add(node.metadata?.name ?? '') });
  await ctx.informers.waitForSync(signal);
  await runWorkers(
    queue,
    1,
    async (name) => {
      // A Node of that name registered again meanwhile (its agent, with the old token): keep it.
      if (!name || informer.getByName(undefined, name)) return;
      try {
        await ctx.client.delete(secrets, NODE_PASSWORD_NAMESPACE, nodePasswordSecretName(name));
        ctx.logger.info({ node: name }, 'node deleted: its node-password Secret is removed, the name is free');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    signal,
    (name, err) => logSyncError(ctx.logger, err, { node: name }, 'could not remove the node-password Secret; retrying'),
  );
}
