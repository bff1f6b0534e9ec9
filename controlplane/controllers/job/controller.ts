// The Job controller: runs pods until enough of them succeed, or gives up after backoffLimit
// failures or activeDeadlineSeconds. Informers on Jobs and pods feed a queue of Job keys;
// `reconcile(key)` decides the Job's state from its pods (assessment.ts), creates or deletes
// pods towards parallelism, counts finished pods through the tracking finalizer (tracking.ts)
// and writes the status and conditions. A second queue removes the finalizer from pods whose Job
// is gone.

import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../api/client.js';
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
import { PodControl, withTypeMeta } from '../pods/pod-control.js';
import type { PodObject } from '../pods/pod-control.js';
import { podsToDelete } from '../pods/pod-ordering.js';
import { isPodReady } from '../pods/pod-state.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';
import { assessJob, isComplete, isSuspended, startTimeOf, wantedActive } from './assessment.js';
import { JOB_MESSAGE, JOB_REASON, findCondition, isJobFinished, newJobCondition, withCondition } from './conditions.js';
import type { Outcome } from './conditions.js';
import { FinalizerRemovals } from './finalizer-expectations.js';
import { assignIndex, formatIndexes, pendingIndexes, surplusIndexedPods } from './indexed.js';
import { DEFAULT_POD_FAILURE_BACKOFF_MS, MAX_POD_FAILURE_BACKOFF_MS, onlyReplacesFailedPods, replacementDelay } from './pod-failures.js';
import { JOB_TRACKING_FINALIZER, countReleased, hasTrackingFinalizer, trackFinishedPods, uncountedStatus } from './tracking.js';
import { kubeTime } from '../../../api/time.js';

export type JobObject = Job & KubeObject;

export const jobsResource = resourceFor('batch', 'jobs');
const podsResource = resourceFor('', 'pods');

/** kube-controller-manager's MaxPodCreateDeletePerSync. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export interface JobControllerOptions {
  workers?: number;
  now?: () => number;
  /** First delay before replacing a failed pod (Kubernetes: 10 s), doubling per failure. */
  podFailureBackoffMs?: number;
  maxPodFailureBackoffMs?: number;
}

type SyncResult = void | { requeueAfterMs?: number };
type MutableStatus = { -readonly [K in keyof JobStatus]: JobStatus[K] };

export class JobController implements Controller {
  readonly name = 'job';

  constructor(private readonly options: JobControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    // Each leadership term starts afresh, as a restarted kube-controller-manager would.
    const sync = new JobSync(ctx, new Expectations(), new FinalizerRemovals(), this.options);
    if (!(await informersSynced('job', signal, sync.waitForSync(signal)))) return;
    const log = syncErrorLogger(ctx.logger, 'job');
    await Promise.all([
      runWorkers(sync.queue, this.options.workers ?? 2, (key) => sync.reconcile(key), signal, log),
      runWorkers(sync.orphans, 1, (key) => sync.releaseOrphan(key), signal, log),
    ]);
  }
}

class JobSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  /** Pods that carry the tracking finalizer but whose Job is gone. */
  readonly orphans = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly jobs: Informer<JobObject>;
  private readonly pods: Informer<PodObject>;
  private readonly podControl: PodControl;
  private readonly now: () => number;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly expectations: Expectations,
    private readonly removals: FinalizerRemovals,
    private readonly options: JobControllerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.podControl = new PodControl(ctx.client, ctx.recorder, jobsResource, expectations);
    this.jobs = indexByNamespace(ctx.informers.informer<JobObject>(jobsResource));
    this.pods = indexByControllerUid(indexByNamespace(ctx.informers.informer<PodObject>(podsResource)));
    this.jobs.on({
      add: (job) => this.queue.add(objectKey(job)),
      update: (_old, job) => this.queue.add(objectKey(job)),
      delete: (job) => {
        this.expectations.delete(objectKey(job));
        this.removals.delete(objectKey(job));
        // Its pods keep their finalizer until someone removes it: that is us.
        for (const pod of this.pods.byIndex(CONTROLLER_UID_INDEX, job.metadata?.uid ?? '')) if (hasTrackingFinalizer(pod)) this.orphans.add(objectKey(pod));
      },
    });
    this.pods.on({
      add: (pod) => this.podChanged(undefined, pod),
      update: (old, pod) => this.podChanged(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.jobs.waitForSync(signal), this.pods.waitForSync(signal)]);
    for (const job of this.jobs.list()) this.queue.add(objectKey(job));
    for (const pod of this.pods.list()) if (hasTrackingFinalizer(pod) && !cachedController(this.jobs, pod)) this.orphans.add(objectKey(pod));
  }

  // ------------------------------------------------------------------------------------------
  // Event handlers

  private podChanged(old: PodObject | undefined, pod: PodObject): void {
    const job = cachedController(this.jobs, pod);
    if (old) {
      const oldJob = cachedController(this.jobs, old);
      if (oldJob && oldJob !== job) this.queue.add(objectKey(oldJob));
    }
    if (!job) {
      if (hasTrackingFinalizer(pod)) this.orphans.add(objectKey(pod));
      else if (!controllerRefOf(pod)) for (const j of controllersSelecting(this.jobs, pod)) this.queue.add(objectKey(j));
      return;
    }
    const key = objectKey(job);
    if (!old) this.expectations.creationObserved(key);
    if (pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, objectKey(pod));
    if (!hasTrackingFinalizer(pod)) this.removals.observed(key, pod.metadata?.uid ?? '');
    this.queue.add(key);
  }

  private podDeleted(pod: PodObject): void {
    const job = cachedController(this.jobs, pod);
    if (!job) return;
    const key = objectKey(job);
    this.expectations.deletionObserved(key, objectKey(pod));
    this.removals.observed(key, pod.metadata?.uid ?? '');
    this.queue.add(key);
  }

  // ------------------------------------------------------------------------------------------
  // Reconcile

  async reconcile(key: string): Promise<SyncResult> {
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.removals.delete(key);
      return;
    }
    if (isJobFinished(cached)) return;
    const converted = selectorFromLabelSelector(cached.spec?.selector);
    if (!converted.ok || converted.selector.empty) return;
    let job: JobObject = cached;
    const { namespace = '' } = splitObjectKey(key);
    const nowMs = this.now();
    const pods = await claimObjects(
      { client: this.ctx.client, resource: podsResource, ownerResource: jobsResource, owner: job, selector: converted.selector },
      this.pods.byIndex(NAMESPACE_INDEX, namespace),
    );
    const expectedRemovals = this.removals.pending(key);
    const satisfied = this.expectations.satisfied(key);
    const status: MutableStatus = { ...job.status };
    let conditions: JobCondition[] = [...(job.status?.conditions ?? [])];
    const suspended = isSuspended(job);

    let startMs = startTimeOf(job);
    if (startMs === undefined && !suspended) {
      startMs = nowMs;
      status.startTime = kubeTime(nowMs);
    }
    const a = assessJob(job, pods, expectedRemovals, startMs, nowMs);
    let active = a.active.length;
    let ready = a.ready;
    let terminating = a.terminating;
    let outcome: Outcome | undefined = a.failure ?? a.success;
    const requeue: number[] = [];
    if (a.deadlineInMs !== undefined) requeue.push(a.deadlineInMs + 50);
    let manageError: unknown;

    const mayAct = !a.success && satisfied && !job.metadata?.deletionTimestamp;
    try {
      if (a.failure || (mayAct && suspended)) {
        // The Job failed or is suspended: stop what still runs. A failed Job's pods keep their
        // finalizer and count as failed; a suspended Job's do not count.
        const removed = a.failure ? await this.deletePods(job, a.active) : await this.deleteUncounted(job, a.active);
        active -= removed.count;
        ready -= removed.ready;
        terminating += removed.count;
      } else if (mayAct) {
        const managed = await this.manage(job, pods, a.active, a.succeeded, a.completedIndexes, terminating, nowMs);
        active = managed.active;
        ready -= managed.removedReady;
        terminating += managed.removed;
        if (managed.retryAfterMs !== undefined) requeue.push(managed.retryAfterMs);
      }
    } catch (err) {
      manageError = err;
    }
    if (!outcome && manageError === undefined && isComplete(job, a.succeeded, active)) {
      outcome = { success: true, reason: JOB_REASON.completionsReached, message: JOB_MESSAGE.completionsReached };
    }
    conditions = this.suspendConditions(job, conditions, suspended, status, nowMs);

    // The decision is recorded at once (interim condition); the terminal one waits for the pods.
    let decidedNow = false;
    if (outcome) {
      const interim = outcome.success ? 'SuccessCriteriaMet' : 'FailureTarget';
      decidedNow = findCondition(job, interim) === undefined;
      conditions = withCondition(conditions, findCondition(job, interim) ?? newJobCondition(interim, 'True', outcome.reason, outcome.message, nowMs));
    }
    status.active = active;
    status.ready = ready;
    status.terminating = terminating;
    status.conditions = conditions;

    // Phase 1: record the finished pods, and a decision just taken, before their finalizers go,
    // so that both outlive the pods that led to them.
    const step = trackFinishedPods(job, pods, expectedRemovals, outcome);
    status.uncountedTerminatedPods = uncountedStatus(step.uncounted);
    const completed = a.completedIndexes;
    if (completed) status.completedIndexes = formatIndexes(completed);
    const indexesChanged = completed !== undefined && status.completedIndexes !== (job.status?.completedIndexes ?? '');
    if (step.changed || indexesChanged || (decidedNow && step.release.length > 0)) job = await this.writeStatus(job, status);

    // Phase 2: let the finished pods go.
    const released = await this.removeFinalizers(key, step.release);

    // Phase 3: count the pods that are gone or released.
    const stillTracked = new Set(
      pods.filter((p) => hasTrackingFinalizer(p) && !expectedRemovals.has(p.metadata?.uid ?? '') && !released.has(p.metadata?.uid ?? '')).map((p) => p.metadata?.uid ?? ''),
    );
    const counted = countReleased(job.status?.succeeded ?? 0, job.status?.failed ?? 0, step.uncounted, stillTracked);
    status.succeeded = completed ? completed.size : counted.succeeded;
    status.failed = counted.failed;
    status.uncountedTerminatedPods = uncountedStatus(counted.uncounted);

    // Phase 4: finished once every pod is accounted for and none is left running.
    let finishedNow = false;
    const allCounted = counted.uncounted.succeeded.length + counted.uncounted.failed.length === 0;
    if (outcome && allCounted && terminating === 0 && active === 0 && this.expectations.satisfied(key)) {
      status.conditions = withCondition(status.conditions ?? [], newJobCondition(outcome.success ? 'Complete' : 'Failed', 'True', outcome.reason, outcome.message, nowMs));
      if (outcome.success) status.completionTime = kubeTime(nowMs);
      finishedNow = true;
    }
    if (statusDiffers(job.status, status)) job = await this.writeStatus(job, status);
    if (finishedNow) {
      const subject = withTypeMeta(job, jobsResource);
      if (outcome!.success) this.ctx.recorder.event(subject, 'Normal', 'Completed', 'Job completed');
      else this.ctx.recorder.event(subject, 'Warning', outcome!.reason, outcome!.message);
    }
    if (manageError !== undefined) throw manageError;
    return requeue.length > 0 ? { requeueAfterMs: Math.max(0, Math.min(...requeue)) } : undefined;
  }

  /** Creates or deletes pods towards parallelism (manageJob). */
  private async manage(
    job: JobObject,
    pods: readonly Pod[],
    activePods: readonly Pod[],
    succeeded: number,
    completed: ReadonlySet<number> | undefined,
    terminating: number,
    nowMs: number,
  ): Promise<{ active: number; removed: number; removedReady: number; retryAfterMs?: number }> {
    if (completed) {
      // Pods of one index twice, of an index out of range or already done, go first.
      const surplus = surplusIndexedPods(job, activePods, completed);
      if (surplus.length > 0) {
        const removed = await this.deleteUncounted(job, surplus.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC));
        return { active: activePods.length - removed.count, removed: removed.count, removedReady: removed.ready };
      }
    }
    const active = activePods.length;
    const wanted = wantedActive(job, succeeded, active);
    if (active > wanted) {
      const victims = podsToDelete(activePods, activePods, Math.min(active - wanted, MAX_POD_CREATE_DELETE_PER_SYNC), nowMs);
      const removed = await this.deleteUncounted(job, victims);
      return { active: active - removed.count, removed: removed.count, removedReady: removed.ready };
    }
    // With podReplacementPolicy Failed (or a podFailurePolicy) a replacement waits until the old
    // pod has fully stopped.
    const waitingFor = onlyReplacesFailedPods(job) ? terminating : 0;
    let missing = Math.min(wanted - waitingFor - active, MAX_POD_CREATE_DELETE_PER_SYNC);
    // Indexed: the lowest indexes that neither succeeded nor run.
    const indexes = completed ? pendingIndexes(job, pods, completed, missing) : [];
    if (completed) missing = indexes.length;
    if (missing <= 0) return { active, removed: 0, removedReady: 0 };
    const delay = replacementDelay(job, pods, nowMs, this.options.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS, this.options.maxPodFailureBackoffMs ?? MAX_POD_FAILURE_BACKOFF_MS);
    if (delay > 0) return { active, removed: 0, removedReady: 0, retryAfterMs: delay };

    const jobName = job.metadata?.name ?? '';
    const { created } = await this.podControl.createAndDeletePods(job, {
      create: {
        count: missing,
        template: job.spec?.template,
        adjust: (base, i) => {
          const index = indexes[i];
          const pod = index === undefined ? base : assignIndex(base, jobName, index);
          pod.metadata!.finalizers = [...new Set([...(pod.metadata!.finalizers ?? []), JOB_TRACKING_FINALIZER])];
          return pod;
        },
      },
    });
    return { active: active + created, removed: 0, removedReady: 0 };
  }

  /** Deletes pods of the Job; returns how many (and how many ready ones) were deleted. */
  private async deletePods(job: JobObject, pods: readonly Pod[]): Promise<{ count: number; ready: number }> {
    const { deleted } = await this.podControl.createAndDeletePods(job, { delete: pods });
    return { count: deleted.length, ready: deleted.filter(isPodReady).length };
  }

  /**
   * Deletes pods the Job no longer wants (surplus ones, or the active pods of a suspended Job)
   * after removing their tracking finalizer, as Kubernetes' deleteJobPods does: they then count
   * neither as succeeded nor as failed. A pod whose finalizer could not be removed is kept for
   * the next sync.
   */
  private async deleteUncounted(job: JobObject, pods: readonly Pod[]): Promise<{ count: number; ready: number }> {
    const released = await this.removeFinalizers(objectKey(job), pods.filter(hasTrackingFinalizer));
    return this.deletePods(
      job,
      pods.filter((pod) => !hasTrackingFinalizer(pod) || released.has(pod.metadata?.uid ?? '')),
    );
  }

  /** Removes the tracking finalizer; returns the UIDs it was removed from. */
  private async removeFinalizers(key: string, pods: readonly Pod[]): Promise<Set<string>> {
    const done = new Set<string>();
    if (pods.length === 0) return done;
    this.removals.expect(key, pods.map((p) => p.metadata?.uid ?? ''));
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (pod) => {
        const uid = pod.metadata?.uid ?? '';
        try {
          await this.removeFinalizer(pod);
          done.add(uid);
        } catch (err) {
          if (isNotFound(err)) {
            done.add(uid);
            return;
          }
          this.removals.observed(key, uid);
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) this.ctx.logger.warn({ controller: 'job', key, err: errorMessage(errors[0]) }, 'could not remove tracking finalizers');
    return done;
  }

  private removeFinalizer(pod: Pod): Promise<KubeObject> {
    return this.ctx.client.patch(
      podsResource,
      pod.metadata?.namespace,
      pod.metadata?.name ?? '',
      { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER], uid: pod.metadata?.uid } },
      'strategic',
    );
  }

  /** The Suspended condition and startTime follow spec.suspend. */
  private suspendConditions(job: JobObject, conditions: JobCondition[], suspended: boolean, status: MutableStatus, nowMs: number): JobCondition[] {
    const current = findCondition(job, 'Suspended');
    const subject = withTypeMeta(job, jobsResource);
    if (suspended && current?.status !== 'True') {
      this.ctx.recorder.event(subject, 'Normal', 'Suspended', 'Job suspended');
      return withCondition(conditions, newJobCondition('Suspended', 'True', JOB_REASON.suspended, 'Job suspended', nowMs));
    }
    if (!suspended && current?.status === 'True') {
      this.ctx.recorder.event(subject, 'Normal', 'Resumed', 'Job resumed');
      // A resumed Job's active deadline counts from now.
      status.startTime = kubeTime(nowMs);
      return withCondition(conditions, newJobCondition('Suspended', 'False', JOB_REASON.resumed, 'Job resumed', nowMs));
    }
    return conditions;
  }

  private writeStatus(job: JobObject, status: MutableStatus): Promise<JobObject> {
    // Zero counters are left out, as Kubernetes' JSON (omitempty) leaves them out; ready and
    // terminating are always written.
    const written = { ...status };
    for (const k of ['active', 'succeeded', 'failed'] as const) if (written[k] === 0) delete written[k];
    if (written.completedIndexes === '') delete written.completedIndexes;
    return this.ctx.client.updateStatus<JobObject>(jobsResource, job.metadata?.namespace, { ...job, status: written });
  }

  // ------------------------------------------------------------------------------------------
  // Orphans

  /** Removes the tracking finalizer from a pod whose Job no longer exists. */
  async releaseOrphan(podKey: string): Promise<void> {
    const pod = this.pods.get(podKey);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    if (cachedController(this.jobs, pod)) return;
    const ref = controllerRefOf(pod);
    if (ref?.kind === 'Job') {
      // The cache may lag: ask the API server whether the Job is really gone.
      try {
        const job = await this.ctx.client.get(jobsResource, pod.metadata?.namespace, ref.name);
        if (job.metadata?.uid === ref.uid) return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.removeFinalizer(pod);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function statusDiffers(current: JobStatus | undefined, next: JobStatus): boolean {
  const pick = (s: JobStatus | undefined) =>
    JSON.stringify([
      s?.active ?? 0,
      s?.ready ?? 0,
      s?.terminating ?? 0,
      s?.succeeded ?? 0,
      s?.failed ?? 0,
      s?.startTime ?? '',
      s?.completionTime ?? '',
      s?.completedIndexes ?? '',
      s?.conditions ?? [],
      s?.uncountedTerminatedPods?.succeeded ?? [],
      s?.uncountedTerminatedPods?.failed ?? [],
    ]);
  return pick(current) !== pick(next);
}
