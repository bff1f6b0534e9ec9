// The pods bound to this node: an informer on pods with `spec.nodeName=<node>` feeds one
// PodWorker per pod UID; Docker changes (from the inventory) and probe results wake the worker
// of their pod. Containers of pods the API no longer has (deleted while the agent was away) get
// a worker too, which stops and removes them; that happens only once the informer has synced,
// so an unreachable API server never costs a running pod. Every pod is re-synced periodically.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { badRequest, notFound } from '../../api/errors.js';
import { Informer } from '../../api/informer.js';
import { resourceFor } from '../../api/resources.js';
import type { RunningContainers } from '../runtime/stats.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import { isActive } from '../runtime/inventory.js';
import type { ContainerLocator } from '../runtime/logs.js';
import type { PodNetworkLocator } from '../runtime/sessions.js';
import { hasEnded, isPendingStart } from '../status/podstatus.js';
import { instancesOf, latestSandbox } from './actions.js';
import type { WorkerContext } from './context.js';
import { PodWorker } from './worker.js';

const pods = resourceFor('', 'pods');

/** Whether a pod update changes anything but the status (or the readiness gates' conditions). */
export function needsSync(old: Pod, pod: Pod): boolean {
  const { resourceVersion: _a, managedFields: _b, ...oldMeta } = old.metadata ?? {};
  const { resourceVersion: _c, managedFields: _d, ...newMeta } = pod.metadata ?? {};
  if (JSON.stringify(oldMeta) !== JSON.stringify(newMeta) || JSON.stringify(old.spec) !== JSON.stringify(pod.spec)) return true;
  const gates = new Set((pod.spec?.readinessGates ?? []).map((g) => g.conditionType));
  if (!gates.size) return false;
  const gateStates = (p: Pod) => JSON.stringify((p.status?.conditions ?? []).filter((c) => gates.has(c.type)).map((c) => [c.type, c.status]));
  return gateStates(old) !== gateStates(pod);
}

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  readonly informer: Informer<Pod & { [field: string]: unknown }>;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly ctx: WorkerContext) {
    this.informer = new Informer(ctx.client, pods, {
      fieldSelector: `spec.nodeName=${ctx.config.nodeName}`,
      maxBackoffMs: 10_000,
      onError: (err) => ctx.logger.warn({ err: String(err) }, 'pod watch failed; retrying'),
    });
    this.informer.on({
      add: (pod) => this.podChanged(pod),
      update: (old, pod) => this.podChanged(pod, old),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  /** Starts watching; resolves once the informer listed the pods (it retries until the API answers). */
  async start(signal: AbortSignal): Promise<void> {
    await this.informer.start(signal);
    this.collectOrphans();
    this.resyncTimer = setInterval(() => this.resyncAll(), this.ctx.config.podResyncIntervalMs);
    this.resyncTimer.unref();
  }

  /** A container of pod `uid` changed in Docker. */
  runtimeChanged(uid: string): void {
    const worker = this.workers.get(uid);
    if (worker) worker.requestSync();
    else if (this.informer.hasSynced) this.collectOrphans();
  }

  /** Something every pod depends on changed (the pod network became ready, Docker came back). */
  resyncAll(): void {
    for (const worker of this.workers.values()) worker.requestSync();
    if (this.informer.hasSynced) this.collectOrphans();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }

  get podCount(): number {
    return this.workers.size;
  }

  /** Running pods (sandbox up) and running containers, for the metrics. */
  runningCounts(): { pods: number; containers: number } {
    let podsRunning = 0;
    let containers = 0;
    for (const c of this.ctx.inventory.all()) {
      if (!isActive(c)) continue;
      if (c.identity.kind === 'sandbox') podsRunning++;
      else containers++;
    }
    return { pods: podsRunning, containers };
  }

  /** Running app containers grouped by pod, for `kubectl top`. */
  readonly runningContainers: RunningContainers = () => {
    const byPod = new Map<string, { namespace: string; name: string; containers: RuntimeContainer[] }>();
    for (const c of this.ctx.inventory.all()) {
      if (c.identity.kind === 'sandbox' || !isActive(c)) continue;
      let entry = byPod.get(c.identity.podUid);
      if (!entry) byPod.set(c.identity.podUid, (entry = { namespace: c.identity.podNamespace, name: c.identity.podName, containers: [] }));
      entry.containers.push(c);
    }
    return [...byPod.values()];
  };

  /** Where `kubectl port-forward` connects for a pod: its sandbox's network, or the node's for a hostNetwork pod. */
  readonly locatePodNetwork: PodNetworkLocator = (namespace, name) => {
    const pod = this.informer.getByName(namespace, name);
    if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
    if (pod.spec?.hostNetwork) return { hostNetwork: true, ip: this.ctx.hostIp };
    const sandbox = latestSandbox(this.ctx.inventory.forPod(pod.metadata?.uid ?? ''));
    if (!sandbox?.ip || !isActive(sandbox)) throw badRequest(`pod ${name} has no running sandbox to forward ports to (phase ${pod.status?.phase ?? 'Pending'})`);
    return { hostNetwork: false, ip: sandbox.ip, sandboxId: sandbox.id };
  };

  /** The Docker container behind `kubectl logs`, with the kubelet's error messages. */
  readonly locateContainer: ContainerLocator = (namespace, name, containerName, previous) => {
    const pod = this.informer.getByName(namespace, name);
    if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
    const uid = pod.metadata?.uid ?? '';
    const all = this.ctx.inventory.forPod(uid);
    const isInit = (pod.spec?.initContainers ?? []).some((c) => c.name === containerName);
    const known = isInit || (pod.spec?.containers ?? []).some((c) => c.name === containerName);
    if (!known) throw badRequest(`container ${containerName} is not valid for pod ${name}`);
    let instances = instancesOf(all, isInit ? 'init' : 'app', containerName);
    const sandbox = latestSandbox(all);
    if (isInit && sandbox) instances = instances.sort((a, b) => Number(b.identity.sandboxId === sandbox.id) - Number(a.identity.sandboxId === sandbox.id));
    const target = previous ? instances[1] : instances[0];
    if (!target) {
      if (previous) throw badRequest(`previous terminated container "${containerName}" in pod "${name}" not found`);
      const waiting = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === containerName)?.state?.waiting;
      throw badRequest(`container "${containerName}" in pod "${name}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`);
    }
    if (isPendingStart(target) && !hasEnded(target)) throw badRequest(`container "${containerName}" in pod "${name}" is waiting to start: ContainerCreating`);
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === containerName);
    return { id: target.id, tty: spec?.tty === true };
  };

  private worker(uid: string): PodWorker {
    let worker = this.workers.get(uid);
    if (!worker) {
      worker = new PodWorker(uid, this.ctx, (done) => this.workers.delete(done));
      this.workers.set(uid, worker);
    }
    return worker;
  }

  private podChanged(pod: Pod, old?: Pod): void {
    if (this.closed) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    // As the kubelet does, a change of status alone (most often the agent's own write) does not
    // call for a sync; the worker just keeps the newer object.
    if (old && !needsSync(old, pod)) this.worker(uid).remember(pod);
    else this.worker(uid).update(pod);
  }

  private podDeleted(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.closed) return;
    const worker = this.workers.get(uid);
    if (worker) worker.update(undefined);
    else if (this.ctx.inventory.forPod(uid).length) this.worker(uid).update(undefined);
  }

  /** Containers whose pod the (synced) API does not have: stop and remove them. */
  private collectOrphans(): void {
    if (this.closed) return;
    const known = new Set(this.informer.list().map((p) => p.metadata?.uid));
    for (const uid of this.ctx.inventory.podUids()) {
      if (known.has(uid) || this.workers.has(uid)) continue;
      this.ctx.logger.info({ uid }, 'removing containers of a pod the API no longer has');
      this.worker(uid).update(undefined);
    }
  }
}
