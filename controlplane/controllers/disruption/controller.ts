// The disruption controller (kube-controller-manager's disruption controller, 1.32): keeps each
// PodDisruptionBudget's status — expected, desired and currently healthy pods, the disruptions
// allowed, the DisruptionAllowed condition — from the pods it selects and their controllers'
// replicas, and drops the disruptedPods entries that evictions recorded once their pods are gone
// or 2 minutes have passed. The eviction subresource (controlplane/apiserver/handlers/eviction.ts)
// spends the disruptions this controller allows.
//
// It also clears stale DisruptionTarget conditions, as Kubernetes' does: a pod that was marked
// for disruption (by an eviction, a taint eviction, PodGC) but is still not being deleted two
// minutes later was not disrupted after all (the deletion failed, or was refused), and its
// condition goes to False, so that a Job's podFailurePolicy does not take a later failure of
// the pod for a disruption.

import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Informer } from '../../../api/informer.js';
import { selectorFromLabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy, objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { DISRUPTION_TARGET, STALE_POD_DISRUPTION_TIMEOUT_MS, staleDisruptionWaitMs } from '../../../api/disruption-target.js';
import { sameJson } from '../../../api/same-json.js';
import { kubeTime } from '../../../api/time.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { cachedController } from '../ownership/controller-lookup.js';
import { NAMESPACE_INDEX, indexByNamespace } from '../ownership/informer-indexes.js';
import { withTypeMeta } from '../pods/pod-control.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';
import { budgetStatus, countHealthy, expectedPodCount, failedStatus, keptDisruptions } from './budget.js';
import type { BudgetStatus, ControllerScale } from './budget.js';

export const pdbResource = resourceFor('policy', 'poddisruptionbudgets');
const podsResource = resourceFor('', 'pods');

type Budget = PodDisruptionBudget & KubeObject;
type PodObject = Pod & KubeObject;

export interface DisruptionControllerOptions {
  /** The clock of disruptedPods expiry and of stale DisruptionTarget conditions; tests move it. */
  now?: () => number;
  workers?: number;
  /** How long a pod may carry DisruptionTarget=True without being deleted (Kubernetes: 2 minutes). */
  stalePodDisruptionTimeoutMs?: number;
}

export class DisruptionController implements Controller {
  readonly name = 'disruption';
  readonly component = 'controllermanager';

  constructor(private readonly options: DisruptionControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const sync = new DisruptionSync(ctx, this.options.now ?? Date.now, this.options.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS);
    if (!(await informersSynced('disruption', signal, sync.waitForSync(signal)))) return;
    const onError = syncErrorLogger(ctx.logger, this.name);
    await Promise.all([
      runWorkers(sync.queue, this.options.workers ?? 1, (key) => sync.reconcile(key), signal, onError),
      runWorkers(sync.staleQueue, 1, (key) => sync.clearStaleDisruption(key), signal, onError),
    ]);
  }
}

/** The pods a budget selects in its namespace: an empty selector selects them all, a missing one none. */
function selectedPods(pdb: Budget, pods: Informer<PodObject>): PodObject[] {
  const converted = selectorFromLabelSelector(pdb.spec?.selector);
  if (!converted.ok) return [];
  return pods.byIndex(NAMESPACE_INDEX, pdb.metadata?.namespace ?? '').filter((p) => converted.selector.matches(p.metadata?.labels));
}

class DisruptionSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  /** Pods whose DisruptionTarget condition may become stale. */
  readonly staleQueue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly budgets: Informer<Budget>;
  private readonly pods: Informer<PodObject>;
  private readonly deployments: Informer<Deployment & KubeObject>;
  private readonly replicaSets: Informer<ReplicaSet & KubeObject>;
  private readonly statefulSets: Informer<StatefulSet & KubeObject>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly now: () => number,
    private readonly staleTimeoutMs: number,
  ) {
    this.budgets = indexByNamespace(ctx.informers.informer<Budget>(pdbResource));
    this.pods = indexByNamespace(ctx.informers.informer<PodObject>(podsResource));
    this.deployments = ctx.informers.informer(resourceFor('apps', 'deployments'));
    this.replicaSets = ctx.informers.informer(resourceFor('apps', 'replicasets'));
    this.statefulSets = ctx.informers.informer(resourceFor('apps', 'statefulsets'));
    this.budgets.on({
      add: (pdb) => this.queue.add(objectKey(pdb)),
      // Our own status writes need no new sync: a spec or metadata change does.
      update: (old, pdb) => {
        if (!sameJson(old.spec, pdb.spec) || old.metadata?.generation !== pdb.metadata?.generation) this.queue.add(objectKey(pdb));
      },
    });
    this.pods.on({
      add: (pod) => {
        this.enqueueBudgetsOf(pod);
        this.watchForStaleDisruption(pod);
      },
      update: (old, pod) => {
        this.enqueueBudgetsOf(pod);
        if (!sameJson(old.metadata?.labels, pod.metadata?.labels)) this.enqueueBudgetsOf(old);
        this.watchForStaleDisruption(pod);
      },
      delete: (pod) => this.enqueueBudgetsOf(pod),
    });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.budgets, this.pods, this.deployments, this.replicaSets, this.statefulSets].map((i) => i.waitForSync(signal)));
    for (const pdb of this.budgets.list()) this.queue.add(objectKey(pdb));
  }

  private watchForStaleDisruption(pod: PodObject): void {
    const waitMs = staleDisruptionWaitMs(pod, this.now(), this.staleTimeoutMs);
    if (waitMs !== undefined) this.staleQueue.addAfter(objectKey(pod), waitMs);
  }

  /**
   * DisruptionTarget=True on a pod still not being deleted after the timeout goes to False (its
   * reason and message stay), written on the pod's resourceVersion as Kubernetes' apply is.
   */
  async clearStaleDisruption(key: string): Promise<void | { requeueAfterMs: number }> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const waitMs = staleDisruptionWaitMs(pod, this.now(), this.staleTimeoutMs);
    if (waitMs === undefined) return;
    if (waitMs > 0) return { requeueAfterMs: waitMs };
    const condition: PodCondition = { type: DISRUPTION_TARGET, status: 'False', lastTransitionTime: kubeTime(this.now()) };
    await this.ctx.client.patch(
      podsResource,
      pod.metadata?.namespace,
      pod.metadata?.name ?? '',
      { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status: { conditions: [condition] } },
      'strategic',
      { subresource: 'status' },
    );
    this.ctx.logger.info({ pod: key }, 'cleared a stale DisruptionTarget condition');
  }

  private enqueueBudgetsOf(pod: PodObject): void {
    for (const pdb of this.budgets.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')) {
      const converted = selectorFromLabelSelector(pdb.spec?.selector);
      if (converted.ok && converted.selector.matches(pod.metadata?.labels)) this.queue.add(objectKey(pdb));
    }
  }

  /**
   * The desired replicas a pod counts against (the finders of Kubernetes' controller): a
   * Deployment's through its ReplicaSet, else the ReplicaSet's or StatefulSet's own.
   */
  private scaleOf = (pod: Pod): ControllerScale | undefined => {
    const rs = cachedController(this.replicaSets, pod);
    if (rs) {
      const deployment = cachedController(this.deployments, rs);
      const owner = deployment ?? rs;
      return { uid: owner.metadata?.uid ?? '', replicas: owner.spec?.replicas ?? 1 };
    }
    const sts = cachedController(this.statefulSets, pod);
    return sts ? { uid: sts.metadata?.uid ?? '', replicas: sts.spec?.replicas ?? 1 } : undefined;
  };

  private event(pdb: Budget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(withTypeMeta(pdb, pdbResource), type, reason, message);
  }

  async reconcile(key: string): Promise<void | { requeueAfterMs: number }> {
    const cached = this.budgets.get(key);
    if (!cached) return;
    const pdb = deepCopy(cached);
    const nowMs = this.now();
    let status: BudgetStatus;
    let recheckAtMs: number | undefined;
    try {
      const pods = selectedPods(pdb, this.pods);
      if (pods.length === 0) this.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
      const expected = expectedPodCount(pdb, pods, this.scaleOf);
      if (expected.unmanagedPods.length > 0) {
        this.event(
          pdb,
          'Warning',
          'UnmanagedPods',
          'Pods selected by this PodDisruptionBudget were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, ' +
            'which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
        );
      }
      const kept = keptDisruptions(pdb, pods, nowMs);
      recheckAtMs = kept.recheckAtMs;
      const currentHealthy = countHealthy(pods, kept.disrupted, nowMs);
      status = budgetStatus(pdb, { currentHealthy, desiredHealthy: expected.desiredHealthy, expectedPods: expected.expectedPods, disrupted: kept.disrupted }, nowMs);
    } catch (err) {
      this.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${errorMessage(err)}`);
      status = failedStatus(pdb, errorMessage(err), nowMs);
    }
    if (!sameJson(pdb.status, status)) {
      // Written on the informer's resourceVersion: an eviction that took a disruption since then
      // makes this a conflict, and the retry starts from its status.
      await this.ctx.client.updateStatus<Budget>(pdbResource, pdb.metadata?.namespace, { ...pdb, status });
    }
    return recheckAtMs === undefined ? undefined : { requeueAfterMs: Math.max(50, recheckAtMs - nowMs) };
  }
}
