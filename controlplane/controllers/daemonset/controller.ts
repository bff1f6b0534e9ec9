// The DaemonSet controller: one pod per eligible node. Informers on DaemonSets, nodes, pods and
// ControllerRevisions feed a queue of DaemonSet keys; `reconcile(key)` records the template as a
// ControllerRevision, creates pods on nodes that lack one and deletes pods from nodes that must
// not run one (placement.ts), rolls the template out (rolling.ts) and writes the status.

import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { LabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { cachedController } from '../ownership/controller-lookup.js';
import { ownedPodEvents } from '../ownership/pod-events.js';
import { claimObjects, controllerRefOf, newControllerRef } from '../ownership/controller-ref.js';
import { NAMESPACE_INDEX, indexByControllerUid, indexByNamespace } from '../ownership/informer-indexes.js';
import { Expectations } from '../pods/expectations.js';
import { PodControl, withTypeMeta } from '../pods/pod-control.js';
import type { PodObject } from '../pods/pod-control.js';
import { availabilityRecheckMs } from '../pods/pod-state.js';
import { syncErrorLogger } from '../sync-errors.js';
import { writeStatusIfChanged } from '../status-write.js';
import { FailedPodBackoff } from './backoff.js';
import { hashOfRevision, maxRevisionNumber, revisionData, revisionHash, revisionMatches, revisionsToDelete } from './history.js';
import { nodeShouldRunDaemonPod } from './node-eligibility.js';
import type { Placement } from './node-eligibility.js';
import { podsByNode, podsShouldBeOnNode } from './placement.js';
import { CONTROLLER_REVISION_HASH_LABEL, daemonPodTemplate, pinnedToNode } from './pod-template.js';
import { planRollingUpdate } from './rolling.js';
import { daemonSetStatus, daemonSetStatusDiffers } from './status.js';

export type DaemonSetObject = DaemonSet & KubeObject;
type NodeObject = Node & KubeObject;
type RevisionObject = ControllerRevision & KubeObject;

export const daemonSetsResource = resourceFor('apps', 'daemonsets');
const nodesResource = resourceFor('', 'nodes');
const podsResource = resourceFor('', 'pods');
const revisionsResource = resourceFor('apps', 'controllerrevisions');

/** kube-controller-manager's DaemonSet burst: at most this many creations or deletions per sync. */
export const DAEMONSET_BURST = 250;

export interface DaemonSetControllerOptions {
  workers?: number;
  now?: () => number;
}

type SyncResult = void | { requeueAfterMs?: number };

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';

  constructor(private readonly options: DaemonSetControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    // Each leadership term starts afresh, as a restarted kube-controller-manager would.
    const sync = new DaemonSetSync(ctx, new Expectations(), new FailedPodBackoff(), this.options.now ?? Date.now);
    if (!(await informersSynced('daemonset', signal, sync.waitForSync(signal)))) return;
    await runWorkers(sync.queue, this.options.workers ?? 2, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, 'daemonset'));
  }
}

class DaemonSetSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly daemonSets: Informer<DaemonSetObject>;
  private readonly nodes: Informer<NodeObject>;
  private readonly pods: Informer<PodObject>;
  private readonly revisions: Informer<RevisionObject>;
  private readonly podControl: PodControl;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly expectations: Expectations,
    private readonly backoff: FailedPodBackoff,
    private readonly now: () => number,
  ) {
    this.podControl = new PodControl(ctx.client, ctx.recorder, daemonSetsResource, expectations);
    this.daemonSets = indexByNamespace(ctx.informers.informer<DaemonSetObject>(daemonSetsResource));
    this.nodes = ctx.informers.informer<NodeObject>(nodesResource);
    this.pods = indexByControllerUid(indexByNamespace(ctx.informers.informer<PodObject>(podsResource)));
    this.revisions = indexByControllerUid(indexByNamespace(ctx.informers.informer<RevisionObject>(revisionsResource)));
    this.daemonSets.on({
      add: (ds) => this.queue.add(objectKey(ds)),
      update: (_old, ds) => this.queue.add(objectKey(ds)),
      delete: (ds) => {
        this.expectations.delete(objectKey(ds));
        this.queue.add(objectKey(ds));
      },
    });
    this.nodes.on({
      add: (node) => this.nodeChanged(undefined, node),
      update: (old, node) => this.nodeChanged(old, node),
      delete: () => this.enqueueAll(),
    });
    this.pods.on(ownedPodEvents(this.daemonSets, this.queue, this.expectations));
    const revisionChanged = (r: RevisionObject) => {
      const ds = cachedController(this.daemonSets, r);
      if (ds) this.queue.add(objectKey(ds));
    };
    this.revisions.on({ add: revisionChanged, update: (_o, r) => revisionChanged(r), delete: revisionChanged });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.daemonSets, this.nodes, this.pods, this.revisions].map((i) => i.waitForSync(signal)));
    this.enqueueAll();
  }

  private enqueueAll(): void {
    for (const ds of this.daemonSets.list()) this.queue.add(objectKey(ds));
  }

  // ------------------------------------------------------------------------------------------
  // Event handlers

  private nodeChanged(old: NodeObject | undefined, node: NodeObject): void {
    // Heartbeats change only the status: nothing a DaemonSet's placement depends on.
    if (old && JSON.stringify([old.metadata?.labels, old.spec]) === JSON.stringify([node.metadata?.labels, node.spec])) return;
    for (const ds of this.daemonSets.list()) {
      const now = nodeShouldRunDaemonPod(node, ds);
      const before: Placement | undefined = old ? nodeShouldRunDaemonPod(old, ds) : undefined;
      if (!before || before.shouldRun !== now.shouldRun || before.shouldContinueRunning !== now.shouldContinueRunning) this.queue.add(objectKey(ds));
    }
  }





  // ------------------------------------------------------------------------------------------
  // Reconcile

  async reconcile(key: string): Promise<SyncResult> {
    const ds = this.daemonSets.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const converted = selectorFromLabelSelector(ds.spec?.selector);
    if (!converted.ok) return;
    if (converted.selector.empty) {
      this.ctx.recorder.event(withTypeMeta(ds, daemonSetsResource), 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Its revisions may be on their way to deletion or orphaning: leave it to the garbage collector.
    if (ds.metadata?.deletionTimestamp) return;

    const namespace = ds.metadata?.namespace ?? '';
    const claimed = await claimObjects(
      { client: this.ctx.client, resource: podsResource, ownerResource: daemonSetsResource, owner: ds, selector: converted.selector },
      this.pods.byIndex(NAMESPACE_INDEX, namespace),
    );
    const { current, old } = await this.constructHistory(ds, converted.selector);
    const hash = hashOfRevision(current);
    const nodes = this.nodes.list();
    // What this sync reads of the pods; its own creations and deletions show in the next one.
    const byNode = podsByNode(claimed);

    let result: SyncResult = undefined;
    let error: unknown;
    const processed = this.expectations.satisfied(key);
    if (processed) {
      try {
        result = await this.manage(ds, nodes, byNode, hash);
        // Roll out only once the placement loop's own creations and deletions were seen.
        if (this.expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
          await this.rollingUpdate(ds, nodes, byNode, hash);
        }
        await this.cleanupHistory(ds, old, claimed);
      } catch (err) {
        error = err;
      }
    }
    const requeue = await this.updateStatus(ds, nodes, byNode, claimed, hash, processed);
    if (error !== undefined) throw error;
    const delays = [result?.requeueAfterMs, requeue].filter((x): x is number => x !== undefined);
    return delays.length > 0 ? { requeueAfterMs: Math.min(...delays) } : undefined;
  }

  private async manage(ds: DaemonSetObject, nodes: NodeObject[], byNode: ReadonlyMap<string, readonly Pod[]>, hash: string): Promise<SyncResult> {
    const key = objectKey(ds);
    const nodesNeedingPods: string[] = [];
    const podsToDelete: Pod[] = [];
    let retryAfterMs: number | undefined;
    const nowMs = this.now();
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const plan = podsShouldBeOnNode(ds, hash, nodeShouldRunDaemonPod(node, ds), byNode.get(name) ?? [], nowMs);
      if (plan.create) nodesNeedingPods.push(name);
      podsToDelete.push(...plan.delete);
      for (const pod of plan.failed) {
        // A node whose kubelet keeps rejecting the pod must not make us hot-loop.
        const wait = this.backoff.remaining(`${key}/${name}`, nowMs);
        if (wait > 0) {
          retryAfterMs = Math.min(retryAfterMs ?? Infinity, wait);
          continue;
        }
        this.backoff.next(`${key}/${name}`, nowMs);
        this.ctx.recorder.event(withTypeMeta(ds, daemonSetsResource), 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${name}, will try to kill it`);
        podsToDelete.push(pod);
      }
    }
    // Unscheduled pods for nodes that no longer exist will never be scheduled: remove them.
    const known = new Set(nodes.map((n) => n.metadata?.name));
    for (const [node, list] of byNode) if (!known.has(node)) podsToDelete.push(...list.filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp));
    await this.syncNodes(ds, podsToDelete, nodesNeedingPods, hash);
    return retryAfterMs === undefined ? undefined : { requeueAfterMs: retryAfterMs };
  }

  private async rollingUpdate(ds: DaemonSetObject, nodes: NodeObject[], podsOnNodes: ReadonlyMap<string, readonly Pod[]>, hash: string): Promise<void> {
    // The rollout also looks at nodes that should run the daemon and have no pod yet.
    const byNode = new Map(podsOnNodes);
    const shouldRun = new Map<string, boolean>();
    let desired = 0;
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const run = nodeShouldRunDaemonPod(node, ds).shouldRun;
      shouldRun.set(name, run);
      if (!run) continue;
      desired++;
      if (!byNode.has(name)) byNode.set(name, []);
    }
    const plan = planRollingUpdate(ds, hash, byNode, desired, (n) => shouldRun.get(n) ?? false, this.now());
    await this.syncNodes(ds, plan.deletePods, plan.createOnNodes, hash);
  }

  /** Creates pods on `nodes` (each pinned to its node) and deletes `pods`, within the burst. */
  private async syncNodes(ds: DaemonSetObject, pods: readonly Pod[], nodes: readonly string[], hash: string): Promise<void> {
    const toCreate = nodes.slice(0, DAEMONSET_BURST);
    await this.podControl.createAndDeletePods(ds, {
      create: {
        count: toCreate.length,
        template: daemonPodTemplate(ds, hash),
        adjust: (pod, i) => ({ ...pod, spec: { ...pod.spec!, affinity: pinnedToNode(pod.spec?.affinity, toCreate[i]!) } }),
      },
      delete: pods.slice(0, DAEMONSET_BURST),
    });
  }

  // ------------------------------------------------------------------------------------------
  // History

  /** The revision of the current template (created or renumbered as needed) and the old ones. */
  private async constructHistory(ds: DaemonSetObject, selector: LabelSelector): Promise<{ current: RevisionObject; old: RevisionObject[] }> {
    const namespace = ds.metadata?.namespace ?? '';
    const owned = await claimObjects(
      { client: this.ctx.client, resource: revisionsResource, ownerResource: daemonSetsResource, owner: ds, selector },
      this.revisions.byIndex(NAMESPACE_INDEX, namespace),
    );
    const matching = owned.filter((r) => revisionMatches(ds, r));
    const old = owned.filter((r) => !revisionMatches(ds, r));
    const next = maxRevisionNumber(old) + 1;
    let current: RevisionObject;
    if (matching.length === 0) current = await this.snapshot(ds, next);
    else {
      current = await this.dedupCurrent(ds, matching);
      // The template went back to an older revision: it becomes the newest.
      if ((current.revision ?? 0) < next) {
        current = await this.ctx.client.update<RevisionObject>(revisionsResource, namespace, { ...current, revision: next });
      }
    }
    return { current, old };
  }

  private async snapshot(ds: DaemonSetObject, revision: number): Promise<RevisionObject> {
    const namespace = ds.metadata?.namespace ?? '';
    const hash = revisionHash(ds);
    const candidate: RevisionObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${ds.metadata?.name}-${hash}`,
        namespace,
        labels: { ...ds.spec?.template?.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
        annotations: { ...ds.metadata?.annotations },
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      data: revisionData(ds),
      revision,
    };
    try {
      return await this.ctx.client.create<RevisionObject>(revisionsResource, namespace, candidate);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.ctx.client.get<RevisionObject>(revisionsResource, namespace, candidate.metadata!.name!);
      if (revisionMatches(ds, existing)) return existing;
      // Another template hashed to this name: bump the collision count and try again later.
      const fresh = await this.ctx.client.get<DaemonSetObject>(daemonSetsResource, namespace, ds.metadata?.name ?? '');
      if ((fresh.status?.collisionCount ?? 0) !== (ds.status?.collisionCount ?? 0)) throw new Error(`stale collision count of DaemonSet ${objectKey(ds)}; will retry`);
      await this.ctx.client.updateStatus(daemonSetsResource, namespace, { ...fresh, status: { ...fresh.status, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
      throw err;
    }
  }

  /** Several revisions hold the current template: keep the newest and move pods to its hash. */
  private async dedupCurrent(ds: DaemonSetObject, matching: RevisionObject[]): Promise<RevisionObject> {
    if (matching.length === 1) return matching[0]!;
    const sorted = [...matching].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
    const keep = sorted[0]!;
    const keepHash = hashOfRevision(keep);
    const namespace = ds.metadata?.namespace ?? '';
    for (const dup of sorted.slice(1)) {
      const dupHash = hashOfRevision(dup);
      for (const pod of this.pods.byIndex(NAMESPACE_INDEX, namespace)) {
        if (controllerRefOf(pod)?.uid !== ds.metadata?.uid || pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== dupHash) continue;
        await this.ctx.client.patch(podsResource, namespace, pod.metadata?.name ?? '', {
          metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: keepHash }, resourceVersion: pod.metadata?.resourceVersion },
        });
      }
      await this.ctx.client.delete(revisionsResource, namespace, dup.metadata?.name ?? '').catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    return keep;
  }

  private async cleanupHistory(ds: DaemonSetObject, old: RevisionObject[], pods: readonly PodObject[]): Promise<void> {
    const live = new Set(pods.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]).filter((h): h is string => !!h));
    for (const r of revisionsToDelete(ds, old, live)) {
      await this.ctx.client.delete(revisionsResource, ds.metadata?.namespace, r.metadata?.name ?? '').catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Status

  private async updateStatus(
    ds: DaemonSetObject,
    nodes: NodeObject[],
    byNode: ReadonlyMap<string, readonly Pod[]>,
    pods: readonly PodObject[],
    hash: string,
    observed: boolean,
  ): Promise<number | undefined> {
    const nowMs = this.now();
    const status = daemonSetStatus(ds, nodes, byNode, hash, nowMs);
    // observedGeneration moves only when this sync acted on that generation.
    if (observed) status.observedGeneration = ds.metadata?.generation ?? 0;
    await writeStatusIfChanged(this.ctx.client, daemonSetsResource, ds, status, daemonSetStatusDiffers);
    // Nothing announces that a ready pod has become available: look again then.
    return availabilityRecheckMs(pods, ds.spec?.minReadySeconds ?? 0, nowMs);
  }
}
