// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets. Informers
// on Deployments, ReplicaSets and pods feed a queue of Deployment keys; `reconcile(key)` claims
// the Deployment's ReplicaSets, finds or creates the one for the current template, scales it and
// the old ones by the strategy (rolling.ts, proportional.ts) and writes the status that
// `kubectl rollout status` reads (status.ts). Every write is conditioned on the resourceVersion
// read from the cache: a stale cache costs a retry, never an overwrite.

import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../api/client.js';
import { StatusError } from '../../../api/errors.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { LabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy, objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { cachedController, controllersSelecting } from '../ownership/controller-lookup.js';
import { claimObjects, controllerRefOf, newControllerRef } from '../ownership/controller-ref.js';
import { CONTROLLER_UID_INDEX, NAMESPACE_INDEX, indexByControllerUid, indexByNamespace } from '../ownership/informer-indexes.js';
import { withTypeMeta } from '../pods/pod-control.js';
import { isPodTerminal } from '../pods/pod-state.js';
import { REVISION_ANNOTATION, maxRevision, replicasAnnotationsFor, setNewReplicaSetAnnotations, setReplicasAnnotations } from './annotations.js';
import { REASON, getCondition, hasProgressDeadline, newCondition, setCondition, deploymentComplete } from './conditions.js';
import { replicaSetsToCleanUp } from './cleanup.js';
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash, templatesEqualIgnoringHash } from './hash.js';
import { isScalingEvent, planScale } from './proportional.js';
import { activeReplicaSets, actualReplicaCount, findNewReplicaSet, oldReplicaSets, specReplicas } from './replicasets.js';
import { newReplicaSetReplicas, scaleDownOldReplicaSets } from './rolling.js';
import { calculateStatus, rolloutStatus, statusDiffers } from './status.js';
import { desiredReplicas } from './surge.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';

export type DeploymentObject = Deployment & KubeObject;
export type ReplicaSetObject = ReplicaSet & KubeObject;
type PodObject = Pod & KubeObject;

export const deploymentsResource = resourceFor('apps', 'deployments');
const replicaSetsResource = resourceFor('apps', 'replicasets');
const podsResource = resourceFor('', 'pods');

export interface DeploymentControllerOptions {
  workers?: number;
  now?: () => number;
}

type SyncResult = void | { requeueAfterMs?: number };

export class DeploymentController implements Controller {
  readonly name = 'deployment';

  constructor(private readonly options: DeploymentControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const informers = new DeploymentInformers(ctx);
    if (!(await informersSynced('deployment', signal, informers.waitForSync(signal)))) return;
    const now = this.options.now ?? Date.now;
    await runWorkers(
      informers.queue,
      this.options.workers ?? 2,
      (key) => {
        const cached = informers.deployments.get(key);
        return cached ? new DeploymentSync(ctx, informers, deepCopy(cached), now).sync() : Promise.resolve();
      },
      signal,
      syncErrorLogger(ctx.logger, 'deployment'),
    );
  }
}

/** The informers and the queue, and which Deployment each change concerns. */
class DeploymentInformers {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  readonly deployments: Informer<DeploymentObject>;
  readonly replicaSets: Informer<ReplicaSetObject>;
  readonly pods: Informer<PodObject>;

  constructor(ctx: ControllerContext) {
    this.deployments = indexByNamespace(ctx.informers.informer<DeploymentObject>(deploymentsResource));
    this.replicaSets = indexByControllerUid(indexByNamespace(ctx.informers.informer<ReplicaSetObject>(replicaSetsResource)));
    this.pods = indexByControllerUid(indexByNamespace(ctx.informers.informer<PodObject>(podsResource)));
    this.deployments.on({
      add: (d) => this.queue.add(objectKey(d)),
      update: (_old, d) => this.queue.add(objectKey(d)),
      delete: (d) => this.queue.add(objectKey(d)),
    });
    this.replicaSets.on({
      add: (rs) => this.replicaSetChanged(undefined, rs),
      update: (old, rs) => this.replicaSetChanged(old, rs),
      delete: (rs) => this.enqueueOwner(rs),
    });
    // Recreate waits until the old pods are gone, which no ReplicaSet status shows.
    this.pods.on({ delete: (pod) => this.podDeleted(pod) });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.deployments.waitForSync(signal), this.replicaSets.waitForSync(signal), this.pods.waitForSync(signal)]);
    for (const d of this.deployments.list()) this.queue.add(objectKey(d));
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const d = cachedController(this.deployments, rs);
    if (d) this.queue.add(objectKey(d));
  }

  private enqueueMatching(rs: ReplicaSet): void {
    for (const d of controllersSelecting(this.deployments, rs)) this.queue.add(objectKey(d));
  }

  private replicaSetChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    const oldRef = old ? controllerRefOf(old) : undefined;
    const ref = controllerRefOf(rs);
    if (old && oldRef && oldRef.uid !== ref?.uid) this.enqueueOwner(old);
    if (ref) return this.enqueueOwner(rs);
    const labelsChanged = !old || JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(rs.metadata?.labels ?? {});
    if (labelsChanged || oldRef) this.enqueueMatching(rs);
  }

  private podDeleted(pod: Pod): void {
    const rs = cachedController(this.replicaSets, pod);
    if (!rs) return;
    const d = cachedController(this.deployments, rs);
    if (d && d.spec?.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }
}

/** One reconcile of one Deployment; `d` follows the Deployment through this sync's own writes. */
class DeploymentSync {
  private readonly namespace: string;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly informers: DeploymentInformers,
    private d: DeploymentObject,
    private readonly now: () => number,
  ) {
    this.namespace = d.metadata?.namespace ?? '';
  }

  async sync(): Promise<SyncResult> {
    const converted = selectorFromLabelSelector(this.d.spec?.selector);
    if (!converted.ok) return;
    if (converted.selector.empty) {
      // An empty selector would take every pod of the namespace: refuse, as Kubernetes does.
      this.event('Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((this.d.metadata?.generation ?? 0) !== (this.d.status?.observedGeneration ?? 0)) {
        await this.writeStatus({ ...this.d.status, observedGeneration: this.d.metadata?.generation ?? 0 });
      }
      return;
    }
    const replicaSets = await this.claimReplicaSets(converted.selector);
    if (this.d.metadata?.deletionTimestamp) return this.syncStatusOnly(replicaSets);
    await this.checkPausedConditions();
    if (this.d.spec?.paused) return this.scaleOnly(replicaSets);
    const newRS = findNewReplicaSet(this.d, replicaSets);
    if (isScalingEvent(this.d, newRS, oldReplicaSets(replicaSets, newRS))) return this.scaleOnly(replicaSets);
    if (this.d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(replicaSets);
    return this.rolloutRolling(replicaSets);
  }

  // ------------------------------------------------------------------------------------------
  // Strategies

  private async rolloutRolling(replicaSets: ReplicaSetObject[]): Promise<SyncResult> {
    let { newRS, oldRSs } = await this.newAndOldReplicaSets(replicaSets, true);
    // Scale up the new ReplicaSet as far as maxSurge allows.
    if (newRS && specReplicas(newRS) !== desiredReplicas(this.d)) {
      const target = specReplicas(newRS) > desiredReplicas(this.d) ? desiredReplicas(this.d) : newReplicaSetReplicas(this.d, [...oldRSs, newRS], newRS);
      const result = await this.scaleAndRecord(newRS, target);
      newRS = result.rs;
      if (result.scaled) return this.syncRolloutStatus([...oldRSs, newRS], newRS);
    }
    // Scale down old ones as far as maxUnavailable allows.
    const steps = scaleDownOldReplicaSets(this.d, [...oldRSs, newRS], activeReplicaSets(oldRSs), newRS);
    let scaledDown = false;
    for (const step of steps) {
      const result = await this.scaleAndRecord(step.rs, step.replicas);
      oldRSs = oldRSs.map((rs) => (rs === step.rs ? result.rs : rs));
      scaledDown ||= result.scaled;
    }
    if (scaledDown) return this.syncRolloutStatus([...oldRSs, newRS], newRS);
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldRSs);
    return this.syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  private async rolloutRecreate(replicaSets: ReplicaSetObject[]): Promise<SyncResult> {
    // The new ReplicaSet is created only once the old pods are gone, never before.
    let { newRS, oldRSs } = await this.newAndOldReplicaSets(replicaSets, false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) {
      const result = await this.scaleAndRecord(rs, 0);
      oldRSs = oldRSs.map((x) => (x === rs ? result.rs : x));
      scaledDown ||= result.scaled;
    }
    if (scaledDown || this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus([...oldRSs, newRS], newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.newAndOldReplicaSets(replicaSets, true));
    if (newRS) newRS = (await this.scaleAndRecord(newRS, desiredReplicas(this.d))).rs;
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldRSs);
    return this.syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  /** Paused Deployments and scaling events: sizes change, the template does not roll out. */
  private async scaleOnly(replicaSets: ReplicaSetObject[]): Promise<SyncResult> {
    let { newRS, oldRSs } = await this.newAndOldReplicaSets(replicaSets, false);
    for (const step of planScale(this.d, newRS, oldRSs)) {
      const result = await this.scaleReplicaSet(step.rs, step.replicas);
      if (step.rs === newRS) newRS = result.rs;
      else oldRSs = oldRSs.map((rs) => (rs === step.rs ? result.rs : rs));
    }
    if (this.d.spec?.paused) await this.cleanup(oldRSs);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  private async syncStatusOnly(replicaSets: ReplicaSetObject[]): Promise<SyncResult> {
    const { newRS, oldRSs } = await this.newAndOldReplicaSets(replicaSets, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  /** Old pods of any kind still exist (Recreate waits for them, terminating ones included). */
  private oldPodsRunning(newRS: ReplicaSetObject | undefined, oldRSs: readonly ReplicaSetObject[]): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    return oldRSs.some(
      (rs) => rs.metadata?.uid !== newRS?.metadata?.uid && this.informers.pods.byIndex(CONTROLLER_UID_INDEX, rs.metadata?.uid ?? '').some((pod) => !isPodTerminal(pod)),
    );
  }

  // ------------------------------------------------------------------------------------------
  // ReplicaSets

  private async claimReplicaSets(selector: LabelSelector): Promise<ReplicaSetObject[]> {
    const candidates = this.informers.replicaSets.byIndex(NAMESPACE_INDEX, this.namespace);
    return claimObjects({ client: this.ctx.client, resource: replicaSetsResource, ownerResource: deploymentsResource, owner: this.d, selector }, candidates);
  }

  /** The new ReplicaSet (created when `create` and missing) and the old ones (getAllReplicaSetsAndSyncRevision). */
  private async newAndOldReplicaSets(replicaSets: ReplicaSetObject[], create: boolean): Promise<{ newRS: ReplicaSetObject | undefined; oldRSs: ReplicaSetObject[] }> {
    const existing = findNewReplicaSet(this.d, replicaSets);
    const oldRSs = oldReplicaSets(replicaSets, existing);
    const newRS = await this.newReplicaSet(existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  private async newReplicaSet(existing: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[], create: boolean): Promise<ReplicaSetObject | undefined> {
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) return this.syncExistingNewReplicaSet(existing, newRevision);
    if (!create) return undefined;

    const template = this.d.spec?.template ?? {};
    const hash = podTemplateHash(template, this.d.status?.collisionCount);
    const labels = { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = this.d.spec?.selector ?? {};
    const annotations: Record<string, string> = {};
    const candidate: ReplicaSetObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${this.d.metadata?.name}-${hash}`,
        namespace: this.namespace,
        labels,
        annotations,
        ownerReferences: [newControllerRef(this.d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas: 0,
        minReadySeconds: this.d.spec?.minReadySeconds ?? 0,
        selector: { ...selector, matchLabels: { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash } },
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
    };
    const replicas = newReplicaSetReplicas(this.d, [...oldRSs, candidate], candidate);
    candidate.spec = { ...candidate.spec!, replicas };
    setNewReplicaSetAnnotations(this.d, annotations, newRevision, false);

    let created: ReplicaSetObject;
    let alreadyExisted = false;
    try {
      created = await this.ctx.client.create<ReplicaSetObject>(replicaSetsResource, this.namespace, candidate);
    } catch (err) {
      if (isAlreadyExists(err)) {
        const found = await this.findReplicaSet(candidate.metadata!.name!);
        if (found && controllerRefOf(found)?.uid === this.d.metadata?.uid && templatesEqualIgnoringHash(found.spec?.template, template)) {
          // Ours, created by an earlier sync the cache had not shown yet.
          created = found;
          alreadyExisted = true;
        } else {
          // Another template hashed to the same name: count the collision so the next hash differs.
          await this.writeStatus({ ...this.d.status, collisionCount: (this.d.status?.collisionCount ?? 0) + 1 });
          throw err;
        }
      } else {
        if (err instanceof StatusError && err.code === 403) throw err;
        const message = `Failed to create new replica set "${candidate.metadata!.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(this.d)) {
          const conditions = setCondition(this.d.status?.conditions ?? [], newCondition('Progressing', 'False', REASON.replicaSetCreateError, message, this.now()));
          await this.writeStatus({ ...this.d.status, conditions });
        }
        this.event('Warning', REASON.replicaSetCreateError, message);
        throw err;
      }
    }
    if (!alreadyExisted && replicas > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${replicas}`);
    await this.setRevision(newRevision);
    if (!alreadyExisted && hasProgressDeadline(this.d)) {
      const conditions = setCondition(
        this.d.status?.conditions ?? [],
        newCondition('Progressing', 'True', REASON.newReplicaSetCreated, `Created new replica set "${created.metadata?.name}"`, this.now()),
      );
      await this.writeStatus({ ...this.d.status, conditions });
    }
    return created;
  }

  /** Keeps the new ReplicaSet's annotations and minReadySeconds in step with the Deployment. */
  private async syncExistingNewReplicaSet(rs: ReplicaSetObject, newRevision: number): Promise<ReplicaSetObject> {
    const annotations = { ...rs.metadata?.annotations };
    const annotationsChanged = setNewReplicaSetAnnotations(this.d, annotations, newRevision, true);
    const minReadySeconds = this.d.spec?.minReadySeconds ?? 0;
    if (annotationsChanged || (rs.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
      // A rollback lands here: the old ReplicaSet becomes the newest revision.
      return this.ctx.client.update<ReplicaSetObject>(replicaSetsResource, this.namespace, {
        ...rs,
        metadata: { ...rs.metadata, annotations },
        spec: { ...rs.spec!, minReadySeconds },
      });
    }
    await this.setRevision(Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? newRevision));
    if (!getCondition(this.d.status, 'Progressing') && hasProgressDeadline(this.d)) {
      const conditions = setCondition(
        this.d.status?.conditions ?? [],
        newCondition('Progressing', 'True', REASON.foundNewReplicaSet, `Found new replica set "${rs.metadata?.name}"`, this.now()),
      );
      await this.writeStatus({ ...this.d.status, conditions });
    }
    return rs;
  }

  private async findReplicaSet(name: string): Promise<ReplicaSetObject | undefined> {
    const cached = this.informers.replicaSets.getByName(this.namespace, name);
    if (cached) return cached;
    try {
      return await this.ctx.client.get<ReplicaSetObject>(replicaSetsResource, this.namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sets the size (recording ScalingReplicaSet) only when it changes. */
  private async scaleAndRecord(rs: ReplicaSetObject, replicas: number): Promise<{ scaled: boolean; rs: ReplicaSetObject }> {
    if (specReplicas(rs) === replicas) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, replicas);
  }

  /** Sets the size and the replica annotations; an event when the size changed. */
  private async scaleReplicaSet(rs: ReplicaSetObject, replicas: number): Promise<{ scaled: boolean; rs: ReplicaSetObject }> {
    const oldReplicas = specReplicas(rs);
    const annotations = { ...rs.metadata?.annotations };
    const { desired, max } = replicasAnnotationsFor(this.d);
    const annotationsChanged = setReplicasAnnotations(annotations, desired, max);
    if (oldReplicas === replicas && !annotationsChanged) return { scaled: false, rs };
    const updated = await this.ctx.client.update<ReplicaSetObject>(replicaSetsResource, this.namespace, {
      ...rs,
      metadata: { ...rs.metadata, annotations },
      spec: { ...rs.spec!, replicas },
    });
    if (oldReplicas === replicas) return { scaled: false, rs: updated };
    const direction = oldReplicas < replicas ? 'up' : 'down';
    this.event('Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata?.name} from ${oldReplicas} to ${replicas}`);
    return { scaled: true, rs: updated };
  }

  private async cleanup(oldRSs: readonly ReplicaSetObject[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(this.d, oldRSs)) {
      try {
        await this.ctx.client.delete(replicaSetsResource, this.namespace, rs.metadata?.name ?? '', { preconditions: { uid: rs.metadata?.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // The Deployment's own writes

  private async checkPausedConditions(): Promise<void> {
    if (!hasProgressDeadline(this.d)) return;
    const cond = getCondition(this.d.status, 'Progressing');
    // A rollout that already timed out keeps saying so.
    if (cond?.reason === REASON.progressDeadlineExceeded) return;
    const pausedShown = cond?.reason === REASON.deploymentPaused;
    const conditions = this.d.status?.conditions ?? [];
    if (this.d.spec?.paused && !pausedShown) {
      await this.writeStatus({ ...this.d.status, conditions: setCondition(conditions, newCondition('Progressing', 'Unknown', REASON.deploymentPaused, 'Deployment is paused', this.now())) });
    } else if (!this.d.spec?.paused && pausedShown) {
      await this.writeStatus({ ...this.d.status, conditions: setCondition(conditions, newCondition('Progressing', 'Unknown', REASON.deploymentResumed, 'Deployment is resumed', this.now())) });
    }
  }

  private async syncRolloutStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): Promise<SyncResult> {
    const { status, recheckAfterMs } = rolloutStatus(this.d, allRSs, newRS, this.now());
    if (statusDiffers(this.d.status, status)) await this.writeStatus(status);
    return recheckAfterMs === undefined ? undefined : { requeueAfterMs: recheckAfterMs };
  }

  private async syncDeploymentStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): Promise<void> {
    const status = calculateStatus(this.d, allRSs, newRS, this.now());
    if (statusDiffers(this.d.status, status)) await this.writeStatus(status);
  }

  private async writeStatus(status: DeploymentStatus): Promise<void> {
    this.d = await this.ctx.client.updateStatus<DeploymentObject>(deploymentsResource, this.namespace, { ...this.d, status });
  }

  /** The Deployment carries its new ReplicaSet's revision (what `kubectl rollout history` shows as current). */
  private async setRevision(revision: number): Promise<void> {
    if (this.d.metadata?.annotations?.[REVISION_ANNOTATION] === String(revision)) return;
    this.d = await this.ctx.client.patch<DeploymentObject>(deploymentsResource, this.namespace, this.d.metadata?.name ?? '', {
      metadata: { annotations: { [REVISION_ANNOTATION]: String(revision) }, resourceVersion: this.d.metadata?.resourceVersion },
    });
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(withTypeMeta(this.d, deploymentsResource), type, reason, message);
  }
}
