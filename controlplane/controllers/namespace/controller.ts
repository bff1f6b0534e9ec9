// The namespace controller (kube-controller-manager's namespace deleter): a namespace being
// deleted (deletionTimestamp, phase Terminating) keeps its `kubernetes` finalizer until every
// namespaced object in it is gone. Each pass deletes what is left, reports progress in the
// namespace's status conditions as Kubernetes does, and once nothing remains removes the
// finalizer through `namespaces/NAME/finalize`; the API server then deletes the namespace.

import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { PREFERRED_RESOURCES, resourceFor } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { runWorkers, WorkQueue } from '../../../api/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import { logSyncError } from '../sync-errors.js';
import { kubeTime } from '../../../api/time.js';

type NamespaceObject = Namespace & KubeObject;

const namespaces = resourceFor('', 'namespaces');
export const FINALIZER_KUBERNETES = 'kubernetes';

/** How often a namespace whose content is still going away is looked at again. */
const RECHECK_MS = 1000;

export function namespaceController(options: { workers?: number } = {}): Controller {
  return {
    name: 'namespace',
    run: (ctx, signal) => runNamespaceController(ctx, signal, options.workers ?? 2),
  };
}

/** Namespaced resources whose objects a namespace deletion removes. */
function namespacedResources(): ResourceType[] {
  return PREFERRED_RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
}

interface Remaining {
  /** `pods.` / `deployments.apps` → objects left. */
  resources: Map<string, number>;
  /** finalizer → objects still carrying it. */
  finalizers: Map<string, number>;
  errors: string[];
}

async function runNamespaceController(ctx: ControllerContext, signal: AbortSignal, workers: number): Promise<void> {
  const informer: Informer<NamespaceObject> = ctx.informers.informer<NamespaceObject>(namespaces);
  const queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  const enqueue = (ns: NamespaceObject) => {
    if (ns.metadata?.deletionTimestamp) queue.add(ns.metadata.name ?? '');
  };
  informer.on({ add: enqueue, update: (_old, ns) => enqueue(ns) });

  async function reconcile(name: string): Promise<void | { requeueAfterMs?: number }> {
    const ns = informer.getByName(undefined, name);
    if (!ns?.metadata?.deletionTimestamp || !(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const remaining = await deleteContent(ctx, name);
    const updated = await writeConditions(ctx, ns, conditionsFor(remaining));
    if (remaining.resources.size > 0 || remaining.errors.length > 0) return { requeueAfterMs: RECHECK_MS };
    try {
      await ctx.client.update(
        namespaces,
        undefined,
        { ...updated, spec: { ...updated.spec, finalizers: (updated.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) } },
        { subresource: 'finalize' },
      );
      ctx.logger.info({ namespace: name }, 'namespace emptied; finalized');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  try {
    await ctx.informers.waitForSync(signal);
  } catch {
    return;
  }
  await runWorkers(queue, workers, reconcile, signal, (name, err) => logSyncError(ctx.logger, err, { namespace: name }, 'namespace deletion failed; retrying'));
}

/** Deletes every object in the namespace and says what is left (terminating pods, finalizers). */
async function deleteContent(ctx: ControllerContext, namespace: string): Promise<Remaining> {
  const remaining: Remaining = { resources: new Map(), finalizers: new Map(), errors: [] };
  for (const resource of namespacedResources()) {
    const label = `${resource.plural}.${resource.group}`;
    try {
      const { items } = await ctx.client.listAll(resource, namespace);
      let left = 0;
      for (const item of items) {
        if (!item.metadata?.deletionTimestamp) {
          try {
            const result = await ctx.client.delete(resource, namespace, item.metadata?.name ?? '', { propagationPolicy: 'Background' });
            // Still there (graceful pod deletion, finalizers): it counts as remaining.
            if (!result.metadata?.deletionTimestamp) continue;
          } catch (err) {
            if (isNotFound(err)) continue;
            throw err;
          }
        }
        left++;
        for (const finalizer of item.metadata?.finalizers ?? []) remaining.finalizers.set(finalizer, (remaining.finalizers.get(finalizer) ?? 0) + 1);
      }
      if (left > 0) remaining.resources.set(label, left);
    } catch (err) {
      remaining.errors.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return remaining;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): NamespaceCondition {
  return { type, status, reason, message };
}

/** The deletion conditions kube-controller-manager reports on a terminating namespace. */
export function conditionsFor(remaining: Remaining): NamespaceCondition[] {
  const resources = [...remaining.resources].map(([label, count]) => `${label} has ${count} resource instances`).sort();
  const finalizers = [...remaining.finalizers].map(([finalizer, count]) => `${finalizer} in ${count} resource instances`).sort();
  return [
    condition('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
    condition('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
    remaining.errors.length > 0
      ? condition(
          'NamespaceDeletionContentFailure',
          'True',
          'ContentDeletionFailed',
          `Failed to delete all resource types, ${remaining.errors.length} remaining: ${remaining.errors.join(', ')}`,
        )
      : condition('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
    resources.length > 0
      ? condition('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${resources.join(', ')}`)
      : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
    finalizers.length > 0
      ? condition('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')}`)
      : condition('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
  ];
}

/** Writes the conditions when they changed (keeping each one's transition time otherwise). */
async function writeConditions(ctx: ControllerContext, ns: NamespaceObject, wanted: NamespaceCondition[]): Promise<NamespaceObject> {
  const current = ns.status?.conditions ?? [];
  const now = kubeTime();
  let changed = current.length !== wanted.length;
  const conditions = wanted.map((c) => {
    const old = current.find((o) => o.type === c.type);
    if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return old;
    changed = true;
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  });
  if (!changed) return ns;
  return ctx.client.updateStatus<NamespaceObject>(namespaces, undefined, { ...ns, status: { ...ns.status, conditions } });
}
