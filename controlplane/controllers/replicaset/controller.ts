// The ReplicaSet controller: keeps spec.replicas active pods for every ReplicaSet. Informers on
// ReplicaSets and pods feed a queue of ReplicaSet keys; `reconcile(key)` claims the pods the
// selector matches, creates or deletes pods to reach the wanted count (one step, guarded by
// expectations so a lagging informer cannot cause double creation) and writes the status.

import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey, splitObjectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { cachedController, controllersSelecting } from '../ownership/controller-lookup.js';
import { claimObjects, controllerRefOf } from '../ownership/controller-ref.js';
import { CONTROLLER_UID_INDEX, NAMESPACE_INDEX, indexByControllerUid, indexByNamespace } from '../ownership/informer-indexes.js';
import { Expectations } from '../pods/expectations.js';
import { PodControl } from '../pods/pod-control.js';
import type { PodObject } from '../pods/pod-control.js';
import { availabilityRecheckMs, isPodActive } from '../pods/pod-state.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';
import { writeStatusIfChanged } from '../status-write.js';
import { BURST_REPLICAS, planReplicas } from './replicas.js';
import { replicaSetStatus, replicaSetStatusDiffers } from './status.js';

export type ReplicaSetObject = ReplicaSet & KubeObject;

export const replicaSetsResource = resourceFor('apps', 'replicasets');
const podsResource = resourceFor('', 'pods');

export interface ReplicaSetControllerOptions {
  workers?: number;
  burstReplicas?: number;
  now?: () => number;
}

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';

  constructor(private readonly options: ReplicaSetControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    // Each leadership term starts afresh, as a restarted kube-controller-manager would.
    const sync = new ReplicaSetSync(ctx, new Expectations(), this.options);
    if (!(await informersSynced('replicaset', signal, sync.waitForSync(signal)))) return;
    await sync.runWorkers(signal);
  }
}

/** One run of the controller: its informers, queue and reconcile. */
class ReplicaSetSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly replicaSets: Informer<ReplicaSetObject>;
  private readonly pods: Informer<PodObject>;
  private readonly podControl: PodControl;
  private readonly now: () => number;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly expectations: Expectations,
    private readonly options: ReplicaSetControllerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.podControl = new PodControl(ctx.client, ctx.recorder, replicaSetsResource, expectations);
    this.replicaSets = indexByControllerUid(indexByNamespace(ctx.informers.informer<ReplicaSetObject>(replicaSetsResource)));
    this.pods = indexByControllerUid(indexByNamespace(ctx.informers.informer<PodObject>(podsResource)));
    this.replicaSets.on({
      add: (rs) => this.queue.add(objectKey(rs)),
      update: (_old, rs) => this.queue.add(objectKey(rs)),
      delete: (rs) => {
        this.expectations.delete(objectKey(rs));
        this.queue.add(objectKey(rs));
      },
    });
    this.pods.on({
      add: (pod) => this.podAdded(pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.replicaSets.waitForSync(signal), this.pods.waitForSync(signal)]);
    for (const rs of this.replicaSets.list()) this.queue.add(objectKey(rs));
  }

  runWorkers(signal: AbortSignal): Promise<void> {
    return runWorkers(this.queue, this.options.workers ?? 2, (key) => this.reconcile(key), signal, syncErrorLogger(this.ctx.logger, 'replicaset'));
  }

  // ------------------------------------------------------------------------------------------
  // Event handlers: map pod changes to the ReplicaSets that care.

  private podAdded(pod: PodObject): void {
    if (pod.metadata?.deletionTimestamp) {
      // Restarted controllers see pods already being deleted as additions.
      this.podDeleted(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = cachedController(this.replicaSets, pod);
      if (!rs) return;
      this.expectations.creationObserved(objectKey(rs));
      this.queue.add(objectKey(rs));
      return;
    }
    for (const rs of controllersSelecting(this.replicaSets, pod)) this.queue.add(objectKey(rs));
  }

  private podUpdated(old: PodObject, pod: PodObject): void {
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion started: replace the pod now rather than when it is finally gone.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldRef = controllerRefOf(old);
    const ref = controllerRefOf(pod);
    const refChanged = oldRef?.uid !== ref?.uid;
    if (refChanged && oldRef) {
      const oldOwner = cachedController(this.replicaSets, old);
      if (oldOwner) this.queue.add(objectKey(oldOwner));
    }
    if (ref) {
      const rs = cachedController(this.replicaSets, pod);
      if (rs) this.queue.add(objectKey(rs));
      return;
    }
    if (labelsChanged || refChanged) for (const rs of controllersSelecting(this.replicaSets, pod)) this.queue.add(objectKey(rs));
  }

  private podDeleted(pod: PodObject): void {
    const rs = cachedController(this.replicaSets, pod);
    if (!rs) return;
    this.expectations.deletionObserved(objectKey(rs), objectKey(pod));
    this.queue.add(objectKey(rs));
  }

  // ------------------------------------------------------------------------------------------
  // Reconcile

  async reconcile(key: string): Promise<void | { requeueAfterMs?: number }> {
    const rs = this.replicaSets.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const converted = selectorFromLabelSelector(rs.spec?.selector);
    if (!converted.ok) {
      // Validation prevents this; a broken object is not worth retrying.
      this.ctx.logger.warn({ controller: 'replicaset', key }, 'invalid selector');
      return;
    }
    const { namespace = '' } = splitObjectKey(key);
    const needsSync = this.expectations.satisfied(key);
    const activePods = this.pods.byIndex(NAMESPACE_INDEX, namespace).filter(isPodActive);
    const owned = await claimObjects(
      { client: this.ctx.client, resource: podsResource, ownerResource: replicaSetsResource, owner: rs, selector: converted.selector },
      activePods,
    );

    let manageError: unknown;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(rs, owned);
      } catch (err) {
        manageError = err;
      }
    }

    const nowMs = this.now();
    const status = replicaSetStatus(rs, owned, manageError === undefined ? undefined : errorMessage(manageError), nowMs);
    await writeStatusIfChanged(this.ctx.client, replicaSetsResource, rs, status, replicaSetStatusDiffers);
    if (manageError !== undefined) throw manageError;

    // Nothing will announce that a ready pod has become available: look again then.
    const recheckMs = availabilityRecheckMs(owned, rs.spec?.minReadySeconds ?? 0, nowMs);
    if (recheckMs !== undefined) return { requeueAfterMs: recheckMs };
  }

  /** Pods of every ReplicaSet controlled by the same owner as `rs` (for the deletion ranking). */
  private relatedPods(rs: ReplicaSetObject, own: readonly PodObject[]): PodObject[] {
    const ownerRef = controllerRefOf(rs);
    if (!ownerRef) return [...own];
    const siblings = this.replicaSets.byIndex(CONTROLLER_UID_INDEX, ownerRef.uid);
    return siblings.flatMap((s) => this.pods.byIndex(CONTROLLER_UID_INDEX, s.metadata?.uid ?? ''));
  }

  private async manageReplicas(rs: ReplicaSetObject, owned: PodObject[]): Promise<void> {
    const action = planReplicas(rs.spec?.replicas ?? 1, owned, this.relatedPods(rs, owned), this.now(), this.options.burstReplicas ?? BURST_REPLICAS);
    if (action.kind === 'create') await this.podControl.createAndDeletePods(rs, { create: { count: action.count, template: rs.spec?.template } });
    else if (action.kind === 'delete') await this.podControl.createAndDeletePods(rs, { delete: action.pods });
  }

}
