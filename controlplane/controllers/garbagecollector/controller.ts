// The garbage collector (kube-controller-manager's): objects are owned through
// metadata.ownerReferences, and the collector keeps the ownership graph of every watched kind.
// - Background deletion: when all of an object's owners are gone (checked by uid with a live
//   read, never on the informer's word alone), the object is deleted.
// - Foreground deletion (`foregroundDeletion` finalizer on an owner being deleted): its
//   dependents are deleted first; once none blocks it (blockOwnerDeletion), the finalizer goes
//   and the API server removes the owner.
// - Orphaning (`orphan` finalizer): the dependents lose their reference to the owner, then the
//   finalizer goes.
// The API server puts the finalizers on DELETE according to propagationPolicy.

import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isNotFound } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { PREFERRED_RESOURCES, RESOURCES, splitApiVersion } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { runWorkers, WorkQueue } from '../../../api/workqueue.js';
import type { Controller, ControllerContext } from '../context.js';
import { logSyncError } from '../sync-errors.js';
import { OwnershipGraph, referenceTo } from './graph.js';
import type { GraphNode } from './graph.js';

export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

/** Every served kind that can own or be owned; events and namespaces take no part. */
export function collectedResources(): ResourceType[] {
  return PREFERRED_RESOURCES.filter((r) => r.kind !== 'Event' && r.kind !== 'Namespace' && r.verbs.includes('watch') && r.verbs.includes('delete'));
}

export function garbageCollectorController(options: { workers?: number } = {}): Controller {
  return {
    name: 'garbagecollector',
    component: 'garbage-collector-controller',
    run: (ctx, signal) => new GarbageCollector(ctx).run(signal, options.workers ?? 4),
  };
}

function resourceOfReference(ref: OwnerReference): ResourceType | undefined {
  const { group } = splitApiVersion(ref.apiVersion);
  return RESOURCES.find((r) => r.group === group && r.kind === ref.kind);
}

type OwnerState = 'solid' | 'dangling' | 'waitingForDependents';

class GarbageCollector {
  readonly graph = new OwnershipGraph();
  private readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly informers = new Map<ResourceType, Informer<KubeObject>>();

  constructor(private readonly ctx: ControllerContext) {
    for (const resource of collectedResources()) {
      const informer = ctx.informers.informer<KubeObject>(resource);
      this.informers.set(resource, informer);
      informer.on({
        add: (obj) => this.changed(resource, obj),
        update: (_old, obj) => this.changed(resource, obj),
        delete: (obj) => this.deleted(obj),
      });
    }
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    try {
      await this.ctx.informers.waitForSync(signal);
    } catch {
      return;
    }
    await runWorkers(this.queue, workers, (uid) => this.reconcile(uid), signal, (uid, err) => {
      const node = this.graph.get(uid);
      logSyncError(this.ctx.logger, err, { object: node ? `${node.resource.plural}/${node.namespace ?? ''}/${node.name}` : uid }, 'garbage collection failed; retrying');
    });
  }

  // -------------------------------------------------------------------------------------------

  private changed(resource: ResourceType, obj: KubeObject): void {
    const { node, previous } = this.graph.upsert(resource, obj);
    if (node.owners.length > 0 || (node.deleting && node.finalizers.some(isOurs))) this.queue.add(node.uid);
    // Owners this object stopped blocking, or that wait for it: look at them again.
    for (const owner of [...(previous?.owners ?? []), ...node.owners]) this.enqueueIfDeleting(owner.uid);
  }

  private deleted(obj: KubeObject): void {
    const uid = obj.metadata?.uid ?? '';
    const node = this.graph.remove(uid);
    // Its dependents may have lost their last owner; its owners may wait for it.
    for (const dependent of this.graph.dependentsOf(uid)) this.queue.add(dependent.uid);
    for (const owner of node?.owners ?? []) this.enqueueIfDeleting(owner.uid);
  }

  private enqueueIfDeleting(uid: string): void {
    if (this.graph.get(uid)?.deleting) this.queue.add(uid);
  }

  private async reconcile(uid: string): Promise<void | { requeueAfterMs?: number }> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (node.deleting) {
      if (node.finalizers.includes(FINALIZER_ORPHAN)) return this.orphanDependents(node);
      if (node.finalizers.includes(FINALIZER_FOREGROUND)) return this.deleteDependentsFirst(node);
      return;
    }
    if (node.owners.length > 0) await this.collectIfOwnerless(node);
  }

  /** The live object of a graph node, as the informer last saw it. */
  private objectOf(node: GraphNode): KubeObject | undefined {
    return this.informers.get(node.resource)?.getByName(node.namespace, node.name);
  }

  /** Is the owner still there? The graph first; a live read before calling it gone. */
  private async ownerState(dependent: GraphNode, ref: OwnerReference): Promise<OwnerState> {
    const owner = this.graph.get(ref.uid);
    if (owner) return owner.deleting && owner.finalizers.includes(FINALIZER_FOREGROUND) ? 'waitingForDependents' : 'solid';
    const resource = resourceOfReference(ref);
    // A kind Skiff does not serve cannot be checked: never delete on a guess.
    if (!resource) return 'solid';
    // Namespaced owners live in the dependent's namespace; a namespaced owner of a
    // cluster-scoped object cannot exist.
    if (resource.namespaced && !dependent.namespace) return 'dangling';
    try {
      const live = await this.ctx.client.get(resource, resource.namespaced ? dependent.namespace : undefined, ref.name);
      if (live.metadata?.uid !== ref.uid) return 'dangling';
      const finalizers = live.metadata?.finalizers ?? [];
      return live.metadata?.deletionTimestamp && finalizers.includes(FINALIZER_FOREGROUND) ? 'waitingForDependents' : 'solid';
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  }

  /** Background deletion: an object whose owners are all gone goes too. */
  private async collectIfOwnerless(node: GraphNode): Promise<void> {
    const states = await Promise.all(node.owners.map(async (ref) => ({ ref, state: await this.ownerState(node, ref) })));
    const dangling = states.filter((s) => s.state === 'dangling');
    const waiting = states.filter((s) => s.state === 'waitingForDependents');
    if (dangling.length === 0 && waiting.length === 0) return;
    const solid = states.some((s) => s.state === 'solid');
    if (solid) {
      // Still owned by someone: forget the gone owners, and stop blocking those being deleted.
      const owners = node.owners
        .filter((ref) => !dangling.some((d) => d.ref.uid === ref.uid))
        .map((ref) => (waiting.some((w) => w.ref.uid === ref.uid) ? { ...ref, blockOwnerDeletion: false } : ref));
      await this.patchOwners(node, owners);
      return;
    }
    // A dependent of an owner deleted in the foreground is deleted in the foreground too when it
    // has dependents of its own, so the owner waits for the whole tree.
    const cascade = waiting.length > 0 && this.graph.dependentsOf(node.uid).length > 0 ? 'Foreground' : 'Background';
    await this.deleteObject(node, cascade);
  }

  private async deleteDependentsFirst(owner: GraphNode): Promise<void | { requeueAfterMs?: number }> {
    const dependents = this.graph.dependentsOf(owner.uid);
    const blocking = dependents.filter((d) => referenceTo(d, owner.uid)?.blockOwnerDeletion === true);
    for (const dependent of dependents) {
      if (dependent.deleting) continue;
      const cascade = this.graph.dependentsOf(dependent.uid).length > 0 ? 'Foreground' : 'Background';
      await this.deleteObject(dependent, cascade);
    }
    if (blocking.length > 0) return { requeueAfterMs: 5000 }; // their deletion events bring us back sooner
    await this.removeFinalizer(owner, FINALIZER_FOREGROUND);
  }

  private async orphanDependents(owner: GraphNode): Promise<void> {
    for (const dependent of this.graph.dependentsOf(owner.uid)) {
      await this.patchOwners(
        dependent,
        dependent.owners.filter((ref) => ref.uid !== owner.uid),
      );
    }
    await this.removeFinalizer(owner, FINALIZER_ORPHAN);
  }

  // -------------------------------------------------------------------------------------------
  // Writes: each carries the resourceVersion it was computed from (a conflict re-reads).

  private async deleteObject(node: GraphNode, propagationPolicy: 'Foreground' | 'Background'): Promise<void> {
    try {
      await this.ctx.client.delete(node.resource, node.namespace, node.name, { propagationPolicy, preconditions: { uid: node.uid } });
      this.ctx.logger.info({ object: `${node.resource.plural}/${node.namespace ?? ''}/${node.name}`, propagationPolicy }, 'deleted a dependent');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async patchOwners(node: GraphNode, owners: OwnerReference[]): Promise<void> {
    const live = this.objectOf(node);
    if (!live) return;
    try {
      await this.ctx.client.patch(node.resource, node.namespace, node.name, {
        metadata: { resourceVersion: live.metadata?.resourceVersion, ownerReferences: owners.length > 0 ? owners : null },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const live = this.objectOf(node);
    if (!live) return;
    const finalizers = (live.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.ctx.client.patch(node.resource, node.namespace, node.name, {
        metadata: { resourceVersion: live.metadata?.resourceVersion, finalizers: finalizers.length > 0 ? finalizers : null },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function isOurs(finalizer: string): boolean {
  return finalizer === FINALIZER_FOREGROUND || finalizer === FINALIZER_ORPHAN;
}
