// One pod's worker: it owns every change to the pod's containers and serialises them (one sync
// at a time; requests during a sync cause one more). A sync reads the pod (from the informer)
// and its containers (from the inventory), reports the status as it finds it (as the kubelet
// does before acting), asks computePodActions for the next steps, carries them out, repeats
// while the steps unlock more (a new sandbox → its containers), then reports the status again.
// Status writes go out in order, one at a time. A pod being deleted, or gone from the API, is
// terminated instead: containers stopped with their grace period, the final status written and
// the pod object deleted with a uid precondition, then its containers and files removed. Failed
// syncs retry with back-off.

import { rm } from 'node:fs/promises';
import type { Container, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import { isActive } from '../runtime/inventory.js';
import { containerSpecHash } from '../runtime/specs.js';
import type { ContainerView, WaitingReason } from '../status/podstatus.js';
import { kubeTime } from '../../api/time.js';
import { computePodStatus, hasEnded, reportableStatus } from '../status/podstatus.js';
import { forgetProjections } from '../volumes/atomic-writer.js';
import type { PreparedVolume } from '../volumes/volumes.js';
import { prepareVolumes, releaseVolumes, VolumeError } from '../volumes/volumes.js';
import type { ContainerStart, PodActions } from './actions.js';
import { computePodActions, instancesOf, latestSandbox, newestFirst } from './actions.js';
import { goDuration } from './backoff.js';
import type { WorkerContext } from './context.js';
import { podDir } from './context.js';
import { restartBackOffKey, startContainer, startCreated } from './start.js';
import { createSandbox, SandboxError } from './sandbox.js';
import { killContainer, MINIMUM_GRACE_SECONDS, stopSandbox } from './termination.js';
import { isTerminalPhase } from '../../api/pod-phase.js';

const podsResource = resourceFor('', 'pods');

/** Rounds of plan → act per sync; each round acts on what the previous one made possible. */
const DEADLINE_EXCEEDED = 'DeadlineExceeded';
const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/** How long until the pod's activeDeadlineSeconds passes (≤ 0: passed); undefined without one. */
export function activeDeadlineLeftMs(pod: Pod, nowMs: number): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
  if (seconds === undefined || seconds === null || Number.isNaN(started)) return undefined;
  return started + seconds * 1000 - nowMs;
}

const MAX_ROUNDS = 6;
/** Instances kept per container: the current one and the previous (for `kubectl logs --previous`). */
const KEEP_INSTANCES = 2;

function specContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** A stand-in Pod for one whose API object is gone, from its containers' labels (for events and logs). */
export function podFromLabels(containers: RuntimeContainer[]): Pod {
  const id = containers[0]?.identity;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: id?.podName, namespace: id?.podNamespace, uid: id?.podUid },
    spec: { containers: [], terminationGracePeriodSeconds: id?.terminationGracePeriodSeconds },
  };
}

/**
 * Starts containers in their spec order, each one after the postStart hooks of those before it:
 * the kubelet starts a pod's containers one by one and runs each one's hook inside its start,
 * so a hook holds back the containers after it (Istio's holdApplicationUntilProxyStarts relies
 * on it). Containers with no hook before them start together, which nobody can tell apart.
 */
export async function startInOrder<T>(starts: ContainerStart[], start: (s: ContainerStart) => Promise<T>): Promise<T[]> {
  let hooksBefore: Promise<unknown> = Promise.resolve();
  const results = starts.map((s) => {
    const result = hooksBefore.then(() => start(s));
    if (s.container.lifecycle?.postStart) hooksBefore = result;
    return result;
  });
  return Promise.all(results);
}

export class PodWorker {
  private pod: Pod | undefined;
  private lastKnown: Pod | undefined;
  private seenInApi = false;
  private readonly waiting = new Map<string, WaitingReason>();
  private running = false;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private errorBackOffMs = 0;
  private volumes: Map<string, PreparedVolume> | undefined;
  private volumesAtMs = 0;
  private readonly firstSeenMs = Date.now();
  /** Aborted once the pod is being deleted (or gone): a postStart hook is no longer waited for. */
  private readonly termination = new AbortController();
  private startObserved = false;
  private adopted: boolean;
  private idle: Promise<void> = Promise.resolve();
  private statusWrites: Promise<void> = Promise.resolve();
  private finishIdle: () => void = () => {};

  constructor(
    readonly uid: string,
    private readonly ctx: WorkerContext,
    private readonly onFinished: (uid: string) => void,
  ) {
    this.adopted = ctx.inventory.forPod(uid).length > 0;
    this.lastKnown = ctx.inventory.forPod(uid).length ? podFromLabels(ctx.inventory.forPod(uid)) : undefined;
  }

  /** The pod as the API shows it; undefined once it was deleted there. */
  update(pod: Pod | undefined): void {
    this.pod = pod;
    if (!pod || pod.metadata?.deletionTimestamp) this.termination.abort();
    if (pod) {
      this.lastKnown = pod;
      this.seenInApi = true;
    }
    this.requestSync();
  }

  /** A newer object of the pod that asks for no sync (a status change). */
  remember(pod: Pod): void {
    this.pod = pod;
    this.lastKnown = pod;
  }

  get currentPod(): Pod | undefined {
    return this.pod ?? this.lastKnown;
  }

  requestSync(): void {
    if (this.closed) return;
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  /** Stops scheduling syncs (agent shutdown); a sync under way finishes. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    return this.idle;
  }

  private async loop(): Promise<void> {
    this.running = true;
    this.idle = new Promise((resolve) => (this.finishIdle = resolve));
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        let nextMs: number | undefined;
        try {
          nextMs = await this.sync();
          this.errorBackOffMs = 0;
        } catch (err) {
          this.ctx.metrics.podSyncErrors.inc();
          this.errorBackOffMs = Math.min(Math.max(500, this.errorBackOffMs * 2), 30_000);
          nextMs = this.errorBackOffMs;
          this.ctx.logger.warn({ pod: this.describe(), err: String(err) }, 'pod sync failed; retrying');
        }
        if (nextMs !== undefined && !this.closed) {
          this.timer = setTimeout(() => this.requestSync(), Math.max(10, nextMs));
          this.timer.unref();
        }
      }
    } finally {
      this.running = false;
      this.finishIdle();
    }
  }

  private describe(): string {
    const meta = this.currentPod?.metadata;
    return `${meta?.namespace}/${meta?.name}`;
  }

  /** One sync; resolves with when the worker wants to look again (back-off expiry). */
  private async sync(): Promise<number | undefined> {
    const pod = this.pod;
    if (!pod || pod.metadata?.deletionTimestamp) {
      await this.terminate();
      return undefined;
    }
    const phase = pod.status?.phase;
    if (isTerminalPhase(phase)) {
      await this.stopFinished(pod);
      return undefined;
    }
    let nextMs: number | undefined;
    const later = (ms: number) => (nextMs = nextMs === undefined ? ms : Math.min(nextMs, ms));
    const deadlineInMs = activeDeadlineLeftMs(pod, Date.now());
    if (deadlineInMs !== undefined && deadlineInMs <= 0) {
      await this.failPastDeadline(pod);
      return undefined;
    }
    if (deadlineInMs !== undefined) later(deadlineInMs);
    // As the kubelet's syncPod does, report the pod as it is before acting on it: while an
    // action takes its time (an image pull, a postStart hook, which runs inside the start), the
    // status shows the containers it concerns as they were (waiting, ContainerCreating), not as
    // running and ready before they are. Nothing waits for this write (the kubelet's status
    // manager writes asynchronously too): pods keep being run while the API server is away.
    this.publishStatus(pod, await this.computeStatus(pod, false)).catch((err: unknown) =>
      this.ctx.logger.debug({ pod: this.describe(), err: String(err) }, 'pod status before the sync not written'),
    );
    if (pod.spec?.hostNetwork || this.ctx.network.ready) {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const progressed = await this.step(pod, later);
        if (!progressed) break;
      }
    }
    await this.refreshVolumes(pod);
    const containers = this.ctx.inventory.forPod(this.uid);
    const sandbox = latestSandbox(containers);
    const podIp = pod.spec?.hostNetwork ? this.ctx.hostIp : sandbox?.ip;
    this.ctx.probes.sync(pod, podIp, containers.filter((c) => c.identity.kind !== 'sandbox' && isActive(c)));
    await this.collectGarbage(containers);
    let status = await this.computeStatus(pod, false);
    if (isTerminalPhase(status.phase) && sandbox && isActive(sandbox)) {
      // Nothing of a finished pod runs again; its sandbox goes (its containers stay for logs).
      await stopSandbox(this.ctx, sandbox);
      status = await this.computeStatus(pod, false);
    }
    await this.publishStatus(pod, status);
    this.observeStart(pod, containers);
    return nextMs;
  }

  /** Plans and acts once; true when it changed something that may unlock more. */
  private async step(pod: Pod, later: (ms: number) => void): Promise<boolean> {
    const ctx = this.ctx;
    const containers = ctx.inventory.forPod(this.uid);
    const actions: PodActions = computePodActions({
      pod,
      containers,
      specHash: containerSpecHash,
      probeKillReason: (id) => ctx.probes.killReason(id),
      restartBackOff: ctx.restartBackOff,
      backOffKey: (c) => restartBackOffKey(pod, c),
    });
    this.noteBackOffs(pod, actions);
    for (const b of actions.backingOff) later(b.remainingMs);

    if (actions.kill.length) {
      const sandbox = latestSandbox(containers);
      const specs = new Map(specContainers(pod).map((c) => [c.name, c]));
      await Promise.all(
        actions.kill.map((k) => {
          const container = specs.get(k.instance.identity.containerName);
          const probeGrace = container?.livenessProbe?.terminationGracePeriodSeconds ?? container?.startupProbe?.terminationGracePeriodSeconds;
          return killContainer(ctx, {
            pod,
            instance: k.instance,
            container,
            gracePeriodSeconds: probeGrace ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
            message: k.message,
            podIp: sandbox?.ip,
          });
        }),
      );
      return true;
    }
    if (actions.startCreated.length) {
      const specs = new Map(specContainers(pod).map((c) => [c.name, c]));
      const podIp = latestSandbox(containers)?.ip;
      await Promise.all(
        actions.startCreated.map((c) =>
          startCreated(ctx, pod, specs.get(c.identity.containerName) ?? { name: c.identity.containerName }, c.id, c.identity.restartCount, podIp, this.waiting, this.termination.signal),
        ),
      );
      return true;
    }
    if (actions.createSandbox) {
      const uid = this.uid;
      if (ctx.sandboxBackOff.inBackOffSinceUpdate(uid)) {
        later(ctx.sandboxBackOff.remainingSinceUpdate(uid));
        return false;
      }
      if (!(await this.ensureVolumes(pod, later))) return false;
      if (actions.createSandbox.replacing) {
        ctx.events.pod(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      }
      const stale = containers.filter((c) => c.identity.kind === 'sandbox');
      try {
        await createSandbox(ctx, pod, actions.createSandbox.attempt, stale);
        ctx.sandboxBackOff.reset(uid);
        for (const [name, w] of this.waiting) if (w.message?.startsWith('Failed to create pod sandbox')) this.waiting.delete(name);
      } catch (err) {
        if (!(err instanceof SandboxError)) throw err;
        const message = `Failed to create pod sandbox: ${err.message}`;
        ctx.logger.debug({ pod: this.describe(), err: err.message }, 'sandbox creation failed');
        ctx.events.pod(pod, 'Warning', 'FailedCreatePodSandBox', message);
        for (const c of specContainers(pod)) if (!instancesOf(containers, 'app', c.name).length) this.waiting.set(c.name, { reason: 'ContainerCreating', message });
        ctx.sandboxBackOff.next(uid);
        later(ctx.sandboxBackOff.remainingSinceUpdate(uid));
        return false;
      }
      return true;
    }
    if (!actions.start.length) return false;
    const sandbox = latestSandbox(containers);
    if (!sandbox) return false;
    if (!(await this.ensureVolumes(pod, later))) return false;
    const results = await startInOrder(actions.start, (s) => startContainer(ctx, pod, s, sandbox, this.volumes!, this.waiting, this.termination.signal));
    for (const r of results) if (!r.ok) later(r.retryMs);
    // Started init containers finish in their own time; their exit wakes the worker.
    return false;
  }

  /** Volumes are set up before anything starts, and refreshed (ConfigMap/Secret updates) each resync. */
  private async ensureVolumes(pod: Pod, later: (ms: number) => void): Promise<boolean> {
    const fresh = this.volumes && Date.now() - this.volumesAtMs < this.ctx.config.podResyncIntervalMs;
    if (fresh) return true;
    const sandbox = latestSandbox(this.ctx.inventory.forPod(this.uid));
    try {
      this.volumes = await prepareVolumes({
        pod,
        podDir: podDir(this.ctx.config, this.uid),
        objects: this.ctx.objects,
        runtime: { podIp: sandbox?.ip, hostIp: this.ctx.hostIp },
        allocatable: this.ctx.allocatable(),
      });
      this.volumesAtMs = Date.now();
      for (const [name, w] of this.waiting) if (w.message?.startsWith('MountVolume.SetUp failed')) this.waiting.delete(name);
      return true;
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.ctx.events.pod(pod, 'Warning', 'FailedMount', err.message);
      const containers = this.ctx.inventory.forPod(this.uid);
      for (const c of specContainers(pod)) {
        if (!containers.some((i) => i.identity.containerName === c.name && i.identity.kind !== 'sandbox')) {
          this.waiting.set(c.name, { reason: 'ContainerCreating', message: err.message });
        }
      }
      later(2000);
      return false;
    }
  }

  /** ConfigMap, Secret and downward API files of a running pod follow their sources, once per resync. */
  private async refreshVolumes(pod: Pod): Promise<void> {
    if (!this.volumes || Date.now() - this.volumesAtMs < this.ctx.config.podResyncIntervalMs) return;
    const projected = (pod.spec?.volumes ?? []).some((v) => v.configMap || v.secret || v.downwardAPI || v.projected);
    if (!projected) return;
    await this.ensureVolumes(pod, () => undefined);
  }

  /** CrashLoopBackOff: the waiting reason, and a BackOff event when a container starts backing off. */
  private noteBackOffs(pod: Pod, actions: PodActions): void {
    const meta = pod.metadata ?? {};
    for (const b of actions.backingOff) {
      const message = `back-off ${goDuration(b.delayMs)} restarting failed container=${b.container.name} pod=${meta.name}_${meta.namespace}(${meta.uid})`;
      const before = this.waiting.get(b.container.name);
      if (before?.reason === 'CrashLoopBackOff' && before.message === message) continue;
      this.waiting.set(b.container.name, { reason: 'CrashLoopBackOff', message });
      this.ctx.events.container(pod, b.container, 'Warning', 'BackOff', `Back-off restarting failed container ${b.container.name} in pod ${meta.name}_${meta.namespace}(${meta.uid})`);
    }
  }

  private async views(pod: Pod, containers: RuntimeContainer[], terminating: boolean): Promise<Map<string, ContainerView>> {
    const views = new Map<string, ContainerView>();
    const sandbox = latestSandbox(containers);
    const initNames = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
    for (const container of specContainers(pod)) {
      const kind = initNames.has(container.name) ? 'init' : 'app';
      let instances = instancesOf(containers, kind, container.name);
      // Init containers report their run in the current sandbox (they run again in a new one).
      if (kind === 'init' && sandbox) {
        const current = instances.filter((c) => c.identity.sandboxId === sandbox.id);
        if (current.length) instances = [...current, ...instances.filter((c) => c.identity.sandboxId !== sandbox.id)];
      }
      const latest = instances[0];
      let waiting = this.waiting.get(container.name);
      // A back-off or failure recorded for an earlier instance does not describe a running one.
      if (latest && !hasEnded(latest)) waiting = undefined;
      views.set(container.name, {
        latest,
        previous: instances[1],
        waiting: terminating ? undefined : waiting,
        ready: latest ? this.ctx.probes.ready(latest.id) : false,
        started: latest ? this.ctx.probes.started(latest.id) : false,
        imageId: latest ? await this.ctx.images.statusImageId(latest.imageId) : undefined,
      });
    }
    return views;
  }

  private async computeStatus(pod: Pod, terminating: boolean): Promise<PodStatus> {
    const containers = this.ctx.inventory.forPod(this.uid);
    return computePodStatus({
      pod,
      hostIp: this.ctx.hostIp,
      sandbox: latestSandbox(containers),
      views: await this.views(pod, containers, terminating),
      terminating,
      now: kubeTime(),
    });
  }

  /** Writes the status after the writes before it: one at a time, in order; see reportableStatus. */
  private publishStatus(pod: Pod, status: PodStatus): Promise<void> {
    status = reportableStatus(status, pod.status, this.ctx.inventory.forPod(this.uid).some(isActive));
    const write = this.statusWrites.then(() => this.writeStatus(pod, status));
    this.statusWrites = write.catch(() => undefined);
    return write;
  }

  private async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    try {
      await this.ctx.statusWriter.write(pod, status);
    } catch (err) {
      if (isNotFound(err)) return;
      this.ctx.metrics.apiWriteErrors.inc({ what: 'pod_status' });
      throw err;
    }
  }

  /** Keeps the current and previous instance of each container; removes older ones. */
  private async collectGarbage(containers: RuntimeContainer[]): Promise<void> {
    const groups = new Map<string, RuntimeContainer[]>();
    for (const c of containers) {
      if (c.identity.kind === 'sandbox') continue;
      const key = `${c.identity.kind}/${c.identity.containerName}`;
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(c);
    }
    for (const instances of groups.values()) {
      for (const old of newestFirst(instances).slice(KEEP_INSTANCES)) {
        if (isActive(old)) continue;
        await this.ctx.engine.call('remove_container', (d) => d.getContainer(old.id).remove({ force: true })).catch(() => undefined);
        this.ctx.inventory.forget(old.id, false);
        // Its termination message file goes with it (a crash-looping container makes one per start).
        if (old.identity.terminationMessageFile) await rm(old.identity.terminationMessageFile, { force: true });
      }
    }
  }

  private observeStart(pod: Pod, containers: RuntimeContainer[]): void {
    if (this.startObserved) return;
    const app = pod.spec?.containers ?? [];
    const allRunning = app.every((c) => {
      const latest = instancesOf(containers, 'app', c.name)[0];
      return latest !== undefined && isActive(latest);
    });
    if (!allRunning) return;
    this.startObserved = true;
    // Pods whose containers ran before this agent started did not start now.
    if (!this.adopted) this.ctx.metrics.podStartDuration.observe((Date.now() - this.firstSeenMs) / 1000);
  }

  /** A pod in a terminal phase: nothing may run; the sandbox is stopped, containers kept for logs. */
  private async stopFinished(pod: Pod): Promise<void> {
    const containers = this.ctx.inventory.forPod(this.uid);
    const running = containers.filter((c) => c.identity.kind !== 'sandbox' && isActive(c));
    const specs = new Map(specContainers(pod).map((c) => [c.name, c]));
    await Promise.all(
      running.map((instance) =>
        killContainer(this.ctx, {
          pod,
          instance,
          container: specs.get(instance.identity.containerName),
          gracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
          message: `Stopping container ${instance.identity.containerName}`,
        }),
      ),
    );
    for (const sandbox of containers.filter((c) => c.identity.kind === 'sandbox' && isActive(c))) await stopSandbox(this.ctx, sandbox);
    this.ctx.probes.removePod(this.uid);
  }

  /**
   * spec.activeDeadlineSeconds passed since the pod started on this node: as the kubelet does,
   * its containers are stopped (with the pod's grace period) and the pod fails for good, with
   * reason DeadlineExceeded; the sandbox goes and nothing restarts.
   */
  private async failPastDeadline(pod: Pod): Promise<void> {
    this.ctx.events.pod(pod, 'Normal', DEADLINE_EXCEEDED, DEADLINE_MESSAGE);
    await this.stopFinished(pod);
    const status = await this.computeStatus(pod, false);
    await this.publishStatus(pod, { ...status, phase: 'Failed', reason: DEADLINE_EXCEEDED, message: DEADLINE_MESSAGE });
  }

  /**
   * Stops everything of the pod. While the API still has the pod (it is being deleted), the
   * final status is written and the object deleted (grace 0, uid precondition: a new pod of the
   * same name is left alone); then the containers and the pod's files go.
   */
  private async terminate(): Promise<void> {
    const ctx = this.ctx;
    const inApi = this.pod;
    const containers = ctx.inventory.forPod(this.uid);
    const pod = inApi ?? this.lastKnown ?? podFromLabels(containers);
    const meta = pod.metadata ?? {};
    // Graceful deletion: the deletion's grace period. A pod that vanished from the API without
    // one was force-deleted (grace 0, so the 2 s minimum applies). A pod known only from its
    // containers' labels (deleted while the agent was away) gets the grace period they record.
    const grace = inApi
      ? (meta.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30)
      : this.seenInApi
        ? (meta.deletionGracePeriodSeconds ?? 0)
        : (containers[0]?.identity.terminationGracePeriodSeconds ?? MINIMUM_GRACE_SECONDS);
    const specs = new Map(specContainers(pod).map((c) => [c.name, c]));
    const sandbox = latestSandbox(containers);
    await Promise.all(
      containers
        .filter((c) => c.identity.kind !== 'sandbox' && isActive(c))
        .map((instance) =>
          killContainer(ctx, {
            pod,
            instance,
            container: specs.get(instance.identity.containerName),
            gracePeriodSeconds: grace,
            message: `Stopping container ${instance.identity.containerName}`,
            podIp: sandbox?.ip,
          }),
        ),
    );
    for (const s of containers.filter((c) => c.identity.kind === 'sandbox' && isActive(c))) await stopSandbox(ctx, s);
    ctx.probes.removePod(this.uid);
    if (inApi) {
      await this.publishStatus(inApi, await this.computeStatus(inApi, true));
      try {
        await ctx.client.delete(podsResource, meta.namespace, meta.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (err) {
        // Gone already, or the name now belongs to a new pod: either way this one is finished.
        if (!isNotFound(err) && !isConflict(err)) {
          ctx.metrics.apiWriteErrors.inc({ what: 'pod_delete' });
          throw err;
        }
      }
    }
    await this.removeEverything();
  }

  private async removeEverything(): Promise<void> {
    const ctx = this.ctx;
    for (const c of ctx.inventory.forPod(this.uid)) {
      await ctx.engine.call('remove_container', (d) => d.getContainer(c.id).remove({ force: true, v: true })).catch(() => undefined);
      ctx.inventory.forget(c.id, false);
    }
    const dir = podDir(ctx.config, this.uid);
    forgetProjections(dir);
    await releaseVolumes(dir);
    await rm(dir, { recursive: true, force: true });
    ctx.statusWriter.forget(this.uid);
    ctx.restartBackOff.resetPrefix(`${this.uid}/`);
    ctx.imageBackOff.resetPrefix(`${this.uid}/`);
    ctx.sandboxBackOff.reset(this.uid);
    this.closed = true;
    this.onFinished(this.uid);
  }
}
