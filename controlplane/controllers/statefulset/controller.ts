// The StatefulSet controller: pods with stable names and ordered lifecycles. Informers on
// StatefulSets, pods and ControllerRevisions feed a queue of set keys; `reconcile(key)` claims
// the set's revisions and pods, records the template as the update revision (history.ts), takes
// one step towards the spec (plan.ts, carried out by stateful-pod-control.ts), writes the
// status and trims the revision history.

import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { ownedPodEvents } from '../ownership/pod-events.js';
import { claimObjects } from '../ownership/controller-ref.js';
import { NAMESPACE_INDEX, indexByControllerUid, indexByNamespace } from '../ownership/informer-indexes.js';
import { Expectations } from '../pods/expectations.js';
import type { PodObject } from '../pods/pod-control.js';
import { availabilityRecheckMs } from '../pods/pod-state.js';
import { syncErrorLogger } from '../sync-errors.js';
import { writeStatusIfChanged } from '../status-write.js';
import { holdsTemplateOf, newRevision, revisionTemplate, revisionsToTruncate, sortRevisions, updateRevisionSource } from './history.js';
import type { RevisionObject } from './history.js';
import { isMemberOf, podRevision } from './identity.js';
import { planStatefulSet } from './plan.js';
import { StatefulPodControl } from './stateful-pod-control.js';
import { replicaCounts, statefulSetStatus, statefulSetStatusDiffers } from './status.js';

export type StatefulSetObject = StatefulSet & KubeObject;

export const statefulSetsResource = resourceFor('apps', 'statefulsets');
const podsResource = resourceFor('', 'pods');
const revisionsResource = resourceFor('apps', 'controllerrevisions');

/** Name collisions tried before a sync gives up creating a revision (Kubernetes tries forever). */
const MAX_REVISION_COLLISIONS = 8;

export interface StatefulSetControllerOptions {
  workers?: number;
  now?: () => number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';

  constructor(private readonly options: StatefulSetControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    // Each leadership term starts afresh, as a restarted kube-controller-manager would.
    const sync = new StatefulSetSync(ctx, new Expectations(), this.options.now ?? Date.now);
    if (!(await informersSynced('statefulset', signal, sync.waitForSync(signal)))) return;
    await runWorkers(sync.queue, this.options.workers ?? 2, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, 'statefulset'));
  }
}

/** The current and update revisions of a set, and the collision count that named the latter. */
interface SetRevisions {
  current: RevisionObject;
  update: RevisionObject;
  collisionCount: number;
}

class StatefulSetSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly sets: Informer<StatefulSetObject>;
  private readonly pods: Informer<PodObject>;
  private readonly revisions: Informer<RevisionObject>;
  private readonly podControl: StatefulPodControl;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly expectations: Expectations,
    private readonly now: () => number,
  ) {
    this.podControl = new StatefulPodControl(ctx.client, ctx.recorder, expectations);
    this.sets = indexByNamespace(ctx.informers.informer<StatefulSetObject>(statefulSetsResource));
    this.pods = indexByControllerUid(indexByNamespace(ctx.informers.informer<PodObject>(podsResource)));
    // Read, not watched: like Kubernetes, the controller only ever changes revisions itself.
    this.revisions = indexByControllerUid(indexByNamespace(ctx.informers.informer<RevisionObject>(revisionsResource)));
    this.sets.on({
      add: (set) => this.queue.add(objectKey(set)),
      update: (_old, set) => this.queue.add(objectKey(set)),
      delete: (set) => {
        this.expectations.delete(objectKey(set));
        this.queue.add(objectKey(set));
      },
    });
    this.pods.on(ownedPodEvents(this.sets, this.queue, this.expectations, isMemberOf));
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.sets, this.pods, this.revisions].map((i) => i.waitForSync(signal)));
    for (const set of this.sets.list()) this.queue.add(objectKey(set));
  }

  // ------------------------------------------------------------------------------------------
  // Event handlers: map pod changes to the sets that care.





  // ------------------------------------------------------------------------------------------
  // Reconcile

  async reconcile(key: string): Promise<void | { requeueAfterMs?: number }> {
    const set = this.sets.get(key);
    if (!set) {
      this.expectations.delete(key);
      return;
    }
    // Validation requires a valid, non-empty selector; a set without one is not worth retrying.
    const converted = selectorFromLabelSelector(set.spec?.selector);
    if (!converted.ok || converted.selector.empty) return;
    // The garbage collector removes (or orphans) its pods and revisions.
    if (set.metadata?.deletionTimestamp) return;

    const namespace = set.metadata?.namespace ?? '';
    const claim = (resource: ResourceType) => ({ client: this.ctx.client, resource, ownerResource: statefulSetsResource, owner: set, selector: converted.selector });
    const revisions = sortRevisions(await claimObjects(claim(revisionsResource), this.revisions.byIndex(NAMESPACE_INDEX, namespace)));
    const pods = await claimObjects(
      claim(podsResource),
      this.pods.byIndex(NAMESPACE_INDEX, namespace).filter((p) => isMemberOf(set, p)),
    );
    const { current, update, collisionCount } = await this.setRevisions(set, revisions);
    const currentName = current.metadata?.name ?? '';
    const updateName = update.metadata?.name ?? '';
    const nowMs = this.now();
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;

    // What this sync reads of the pods; its own creations and deletions show in the next one.
    const processed = this.expectations.satisfied(key);
    let counts = replicaCounts(pods, minReadySeconds, currentName, updateName, nowMs);
    let error: unknown;
    if (processed) {
      const plan = planStatefulSet({ set, pods, currentRevision: currentName, updateRevision: updateName, nowMs });
      if (plan.waitingFor) this.ctx.logger.debug({ controller: 'statefulset', key, waitingFor: plan.waitingFor }, 'waiting');
      counts = plan.counts;
      const templates = new Map<string, PodTemplateSpec | undefined>([
        [currentName, revisionTemplate(current)],
        [updateName, set.spec?.template],
      ]);
      try {
        await this.podControl.apply(set, plan, templates);
      } catch (err) {
        error = err;
      }
    }
    // observedGeneration moves only when this sync acted on that generation.
    const observedGeneration = processed ? set.metadata?.generation : set.status?.observedGeneration;
    const status = statefulSetStatus(set, counts, { current: currentName, update: updateName, collisionCount }, observedGeneration);
    try {
      await writeStatusIfChanged(this.ctx.client, statefulSetsResource, set, status, statefulSetStatusDiffers);
      await this.truncateHistory(set, revisions, pods, [currentName, updateName]);
    } catch (err) {
      error ??= err;
    }
    if (error !== undefined) throw error;
    // Nothing announces that a ready pod has become available: look again then.
    const recheckMs = availabilityRecheckMs(pods, minReadySeconds, nowMs);
    return recheckMs === undefined ? undefined : { requeueAfterMs: recheckMs };
  }

  // ------------------------------------------------------------------------------------------
  // Revisions

  /** The update revision (created, or renumbered on a rollback, as needed) and the current one. */
  private async setRevisions(set: StatefulSetObject, sorted: RevisionObject[]): Promise<SetRevisions> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const source = updateRevisionSource(set, sorted);
    let update: RevisionObject;
    if (source.kind === 'newest') update = source.revision;
    else if (source.kind === 'renumber') {
      update = await this.ctx.client.update<RevisionObject>(revisionsResource, set.metadata?.namespace, { ...source.revision, revision: source.to });
    } else {
      ({ revision: update, collisionCount } = await this.createRevision(set, source.number, collisionCount));
    }
    const current = sorted.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /**
   * Creates the revision of the set's template; when another template's revision has its name,
   * counts a collision and tries the next name (CreateControllerRevision).
   */
  private async createRevision(set: StatefulSetObject, number: number, collisionCount: number): Promise<{ revision: RevisionObject; collisionCount: number }> {
    const namespace = set.metadata?.namespace;
    for (let collisions = collisionCount; collisions < collisionCount + MAX_REVISION_COLLISIONS; collisions++) {
      const candidate = newRevision(set, number, collisions);
      try {
        return { revision: await this.ctx.client.create<RevisionObject>(revisionsResource, namespace, candidate), collisionCount: collisions };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.ctx.client.get<RevisionObject>(revisionsResource, namespace, candidate.metadata?.name ?? '');
        if (holdsTemplateOf(set, existing)) return { revision: existing, collisionCount: collisions };
      }
    }
    throw new Error(`StatefulSet ${objectKey(set)}: ${MAX_REVISION_COLLISIONS} revision names in a row are taken`);
  }

  /** Deletes old revisions beyond revisionHistoryLimit that neither the status nor a pod uses. */
  private async truncateHistory(set: StatefulSetObject, sorted: RevisionObject[], pods: readonly PodObject[], inStatus: string[]): Promise<void> {
    const live = new Set([...inStatus, ...pods.map(podRevision).filter((r): r is string => !!r)]);
    for (const r of revisionsToTruncate(set, sorted, live)) {
      await this.ctx.client.delete(revisionsResource, set.metadata?.namespace, r.metadata?.name ?? '').catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }
}
