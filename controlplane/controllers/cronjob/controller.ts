// The CronJob controller (kube-controller-manager's cronjob controller v2): starts a Job at each
// start time of a CronJob's schedule. Informers on CronJobs and Jobs feed a queue of CronJob
// keys; `reconcile(key)` brings status.active up to date with the Jobs, trims the finished ones
// to the history limits, starts the Job of the most recent unmet start time (schedule.ts) as the
// concurrency policy allows, writes the status and requeues the key for the next start time.

import type { CronJobStatus } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../api/client.js';
import { parseSchedule, timeZoneProblem } from '../../../api/cron.js';
import type { Informer } from '../../../api/informer.js';
import { objectKey } from '../../../api/objects.js';
import { sameJson } from '../../../api/same-json.js';
import { resourceFor } from '../../../api/resources.js';
import { kubeTime } from '../../../api/time.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { cachedController } from '../ownership/controller-lookup.js';
import { controllerRefOf } from '../ownership/controller-ref.js';
import { CONTROLLER_UID_INDEX, indexByControllerUid } from '../ownership/informer-indexes.js';
import { withTypeMeta } from '../pods/pod-control.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';
import { jobEnd, jobForStart, jobReference, jobsBeyondHistory } from './jobs.js';
import type { CronJobObject, JobObject } from './jobs.js';
import { MAX_MISSED_START_TIMES, isTooLate, jobNameFor, mostRecentStart, untilNextStart } from './schedule.js';

export const cronJobsResource = resourceFor('batch', 'cronjobs');
const jobsResource = resourceFor('batch', 'jobs');

export interface CronJobControllerOptions {
  workers?: number;
  /** The clock start times are compared with; tests move it instead of waiting for minutes. */
  now?: () => number;
}

type SyncResult = void | { requeueAfterMs?: number };
type MutableStatus = { -readonly [K in keyof CronJobStatus]: CronJobStatus[K] };

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly component = 'cronjob-controller';

  constructor(private readonly options: CronJobControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const sync = new CronJobSync(ctx, this.options.now ?? Date.now);
    if (!(await informersSynced('cronjob', signal, sync.waitForSync(signal)))) return;
    await runWorkers(sync.queue, this.options.workers ?? 1, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, 'cronjob'));
  }
}

class CronJobSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly cronJobs: Informer<CronJobObject>;
  private readonly jobs: Informer<JobObject>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly now: () => number,
  ) {
    this.cronJobs = ctx.informers.informer<CronJobObject>(cronJobsResource);
    this.jobs = indexByControllerUid(ctx.informers.informer<JobObject>(jobsResource));
    this.cronJobs.on({
      add: (cj) => this.queue.add(objectKey(cj)),
      update: (_old, cj) => this.queue.add(objectKey(cj)),
    });
    const jobChanged = (job: JobObject) => {
      const owner = cachedController(this.cronJobs, job);
      if (owner) this.queue.add(objectKey(owner));
    };
    this.jobs.on({ add: jobChanged, update: (_old, job) => jobChanged(job), delete: jobChanged });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.cronJobs.waitForSync(signal), this.jobs.waitForSync(signal)]);
    for (const cj of this.cronJobs.list()) this.queue.add(objectKey(cj));
  }

  private event(cronJob: CronJobObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(withTypeMeta(cronJob, cronJobsResource), type, reason, message);
  }

  async reconcile(key: string): Promise<SyncResult> {
    let cronJob = this.cronJobs.get(key);
    if (!cronJob) return;
    const uid = cronJob.metadata?.uid ?? '';
    const jobs = this.jobs.byIndex(CONTROLLER_UID_INDEX, uid).filter((j) => controllerRefOf(j)?.kind === 'CronJob');
    const known = new Set((cronJob.status?.active ?? []).map((ref) => ref.uid));
    if (jobs.some((j) => !jobEnd(j) && !known.has(j.metadata?.uid))) {
      // Usually our own Job, seen before our status write reached the cache: ask the API server.
      cronJob = await this.ctx.client.get<CronJobObject>(cronJobsResource, cronJob.metadata?.namespace, cronJob.metadata?.name ?? '');
      if (cronJob.metadata?.uid !== uid) return;
    }
    const status: MutableStatus = { ...cronJob.status, active: [...(cronJob.status?.active ?? [])] };
    await this.trackJobs(cronJob, jobs, status);
    let requeueAfterMs: number | undefined;
    try {
      if (!cronJob.metadata?.deletionTimestamp) requeueAfterMs = await this.startDueJob(cronJob, status);
    } finally {
      await this.removeBeyondHistory(cronJob, jobs, status);
      await this.writeStatus(cronJob, status);
    }
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** status.active follows the Jobs: finished ones leave it, unknown running ones join it. */
  private async trackJobs(cronJob: CronJobObject, jobs: readonly JobObject[], status: MutableStatus): Promise<void> {
    const active = status.active!;
    const uids = new Set(jobs.map((j) => j.metadata?.uid));
    for (const job of jobs) {
      const at = active.findIndex((ref) => ref.uid === job.metadata?.uid);
      const end = jobEnd(job);
      if (at < 0 && !end) {
        // Created by us before a crash or a failed status write, or by someone for us to adopt.
        this.event(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata?.name}`);
        active.push(jobReference(job));
      } else if (at >= 0 && end) {
        active.splice(at, 1);
        this.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata?.name}, condition: ${end}`);
      }
      const completedAt = job.status?.completionTime;
      if (end === 'Complete' && completedAt && (!status.lastSuccessfulTime || Date.parse(completedAt) > Date.parse(status.lastSuccessfulTime))) {
        status.lastSuccessfulTime = completedAt;
      }
    }
    // An active Job the cache does not know may be new or gone: the API server knows.
    for (const ref of [...active]) {
      if (uids.has(ref.uid)) continue;
      let gone = false;
      try {
        const job = await this.ctx.client.get(jobsResource, ref.namespace, ref.name ?? '');
        gone = job.metadata?.uid !== ref.uid;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        gone = true;
      }
      if (gone) {
        this.event(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        active.splice(active.indexOf(ref), 1);
      }
    }
  }

  /** Starts the Job of the most recent unmet start time if allowed; returns the requeue delay. */
  private async startDueJob(cronJob: CronJobObject, status: MutableStatus): Promise<number | undefined> {
    const spec = cronJob.spec;
    if (!spec || spec.suspend) return undefined;
    const zone = spec.timeZone ?? undefined;
    if (zone !== undefined) {
      const problem = timeZoneProblem(zone);
      if (problem) {
        this.event(cronJob, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${zone}": ${problem}`);
        return undefined;
      }
    }
    const parsed = parseSchedule(spec.schedule ?? '', zone);
    if (!parsed.ok) {
      this.event(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${parsed.message}`);
      return undefined;
    }
    const nowMs = this.now();
    const next = untilNextStart(parsed.schedule, nowMs);
    const due = mostRecentStart({ ...cronJob, status }, parsed.schedule, nowMs);
    if (due.missed > MAX_MISSED_START_TIMES) {
      this.event(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const scheduledMs = due.mostRecentMs;
    if (scheduledMs === undefined) return next;
    if (isTooLate(cronJob, scheduledMs, nowMs)) {
      this.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduledMs).toUTCString().replace('GMT', '+0000')}`);
      return next;
    }
    const active = status.active!;
    const name = jobNameFor(cronJob.metadata?.name ?? '', scheduledMs);
    if (active.some((ref) => ref.name === name)) {
      // Created earlier but the status write was lost: this start time is done.
      status.lastScheduleTime = kubeTime(scheduledMs);
      return next;
    }
    if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
      this.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return next;
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...active]) {
        await this.deleteJob(cronJob, ref);
        active.splice(active.indexOf(ref), 1);
      }
    }
    try {
      const created = await this.ctx.client.create<JobObject>(jobsResource, cronJob.metadata?.namespace, jobForStart(cronJob, scheduledMs));
      this.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      active.push(jobReference(created));
    } catch (err) {
      // Created by an earlier sync whose status write was lost; the Job informer will add it.
      if (!isAlreadyExists(err)) {
        this.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
        throw err;
      }
    }
    status.lastScheduleTime = kubeTime(scheduledMs);
    return next;
  }

  /** Deletes finished Jobs beyond the history limits, oldest first. */
  private async removeBeyondHistory(cronJob: CronJobObject, jobs: readonly JobObject[], status: MutableStatus): Promise<void> {
    for (const job of jobsBeyondHistory(cronJob, jobs)) {
      await this.deleteJob(cronJob, jobReference(job));
      const at = status.active!.findIndex((ref) => ref.uid === job.metadata?.uid);
      if (at >= 0) status.active!.splice(at, 1);
    }
  }

  /** Deletes a Job and, in the background, its pods. */
  private async deleteJob(cronJob: CronJobObject, ref: ObjectReference): Promise<void> {
    try {
      await this.ctx.client.delete(jobsResource, ref.namespace ?? cronJob.metadata?.namespace, ref.name ?? '', { propagationPolicy: 'Background' });
    } catch (err) {
      if (isNotFound(err)) return;
      this.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`);
      throw err;
    }
    this.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
  }

  private async writeStatus(cronJob: CronJobObject, status: MutableStatus): Promise<void> {
    const written: MutableStatus = { ...status };
    if (written.active?.length === 0) delete written.active;
    if (sameJson(written, cronJob.status ?? {})) return;
    await this.ctx.client.updateStatus<CronJobObject>(cronJobsResource, cronJob.metadata?.namespace, { ...cronJob, status: written });
  }
}
