// The probes of every running container on the node: workers are created when a container
// instance runs and stopped when it does not, keyed by Docker container ID so that a restarted
// container starts from the initial results. The pod worker asks whether a container is ready,
// has started, or must be killed (failed liveness or startup probe); a result change wakes it.

import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../metrics.js';
import type { Engine } from '../runtime/engine.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import { execProbe } from './exec.js';
import { httpProbe } from './http.js';
import type { ProbeOutcome } from './outcome.js';
import { ProbeSetupError } from './outcome.js';
import { tcpProbe } from './tcp.js';
import type { ProbeResult, ProbeType } from './worker.js';
import { ProbeWorker } from './worker.js';

export interface ProbeEvents {
  unhealthy(pod: Pod, container: Container, message: string): void;
}

interface ContainerProbes {
  podUid: string;
  container: Container;
  workers: Partial<Record<ProbeType, ProbeWorker>>;
}

const TYPE_TITLE: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };
const UNHEALTHY_EVENT_INTERVAL_MS = 10_000;

export interface ProbeManagerOptions {
  engine: Engine;
  metrics: AgentMetrics;
  events: ProbeEvents;
  logger: Logger;
  /** A probe result of a pod changed: sync it. */
  onChange(podUid: string): void;
  /** When the agent started: containers running since before are "adopted" (jittered, seeded). */
  agentStartMs: number;
}

function probeOf(container: Container, type: ProbeType): Probe | undefined {
  return type === 'liveness' ? container.livenessProbe : type === 'readiness' ? container.readinessProbe : container.startupProbe;
}

export class ProbeManager {
  private readonly byContainer = new Map<string, ContainerProbes>();
  private readonly pods = new Map<string, Pod>();
  private readonly podIps = new Map<string, string>();
  private readonly lastEvents = new Map<string, { message: string; atMs: number }>();

  constructor(private readonly options: ProbeManagerOptions) {}

  /** Makes the workers match the pod's running containers. */
  sync(pod: Pod, podIp: string | undefined, running: RuntimeContainer[]): void {
    const uid = pod.metadata?.uid ?? '';
    this.pods.set(uid, pod);
    if (podIp) this.podIps.set(uid, podIp);
    const specs = new Map([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]));
    const live = new Set<string>();
    for (const instance of running) {
      const container = specs.get(instance.identity.containerName);
      if (!container || !(container.livenessProbe || container.readinessProbe || container.startupProbe)) continue;
      live.add(instance.id);
      if (!this.byContainer.has(instance.id)) this.startWorkers(pod, container, instance);
    }
    for (const [id, entry] of this.byContainer) if (entry.podUid === uid && !live.has(id)) this.forget(id);
  }

  /** Readiness of a running instance: its readiness probe's result, or true when it has none. */
  ready(containerId: string): boolean {
    const entry = this.byContainer.get(containerId);
    if (!entry) return true;
    if (!this.started(containerId)) return false;
    const worker = entry.workers.readiness;
    return worker ? worker.result === 'success' : true;
  }

  started(containerId: string): boolean {
    const worker = this.byContainer.get(containerId)?.workers.startup;
    return worker ? worker.result === 'success' : true;
  }

  /** Why the instance must be killed (a failed liveness or startup probe), if it must. */
  killReason(containerId: string): string | undefined {
    const entry = this.byContainer.get(containerId);
    if (!entry) return undefined;
    if (entry.workers.startup?.result === 'failure') return `Container ${entry.container.name} failed startup probe, will be restarted`;
    if (entry.workers.liveness?.result === 'failure') return `Container ${entry.container.name} failed liveness probe, will be restarted`;
    return undefined;
  }

  forget(containerId: string): void {
    const entry = this.byContainer.get(containerId);
    if (!entry) return;
    for (const worker of Object.values(entry.workers)) worker?.stop();
    this.byContainer.delete(containerId);
    for (const type of ['liveness', 'readiness', 'startup']) this.lastEvents.delete(`${containerId}/${type}`);
  }

  removePod(uid: string): void {
    for (const [id, entry] of this.byContainer) if (entry.podUid === uid) this.forget(id);
    this.pods.delete(uid);
    this.podIps.delete(uid);
  }

  stopAll(): void {
    for (const id of [...this.byContainer.keys()]) this.forget(id);
  }

  get workerCount(): number {
    let n = 0;
    for (const entry of this.byContainer.values()) n += Object.keys(entry.workers).length;
    return n;
  }

  private startWorkers(pod: Pod, container: Container, instance: RuntimeContainer): void {
    const uid = pod.metadata?.uid ?? '';
    const entry: ContainerProbes = { podUid: uid, container, workers: {} };
    this.byContainer.set(instance.id, entry);
    const startedAtMs = instance.startedAt ? Date.parse(instance.startedAt) : Date.now();
    const adopted = startedAtMs < this.options.agentStartMs;
    // An adopted container keeps the readiness and startup its pod status showed, so that an
    // agent restart does not flap endpoints.
    const shown = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
      (s) => s.name === container.name && s.containerID === `docker://${instance.id}`,
    );
    for (const type of ['startup', 'liveness', 'readiness'] as const) {
      const probe = probeOf(container, type);
      if (!probe) continue;
      let initialResult: ProbeResult | undefined;
      if (adopted && shown && type === 'readiness') initialResult = shown.ready ? 'success' : 'failure';
      if (adopted && shown && type === 'startup' && shown.started) initialResult = 'success';
      const worker = new ProbeWorker({
        type,
        probe,
        startedAtMs,
        jitter: adopted,
        initialResult,
        started: () => this.started(instance.id),
        run: (timeoutMs) => this.run(probe, container, instance, timeoutMs),
        report: (outcome, durationMs, changed) => this.report(uid, instance.id, type, outcome, durationMs, changed),
      });
      entry.workers[type] = worker;
      if (!(type === 'startup' && initialResult === 'success')) worker.start();
    }
  }

  private async run(probe: Probe, container: Container, instance: RuntimeContainer, timeoutMs: number): Promise<ProbeOutcome> {
    const podIp = this.podIps.get(instance.identity.podUid) ?? this.pods.get(instance.identity.podUid)?.status?.podIP ?? '';
    try {
      if (probe.exec) return await execProbe(this.options.engine, probe.exec, instance.id, timeoutMs);
      if (probe.httpGet) {
        if (!podIp && !probe.httpGet.host) return { result: 'error', output: 'pod has no IP yet' };
        return await httpProbe(probe.httpGet, container, podIp, timeoutMs);
      }
      if (probe.tcpSocket) {
        if (!podIp && !probe.tcpSocket.host) return { result: 'error', output: 'pod has no IP yet' };
        return await tcpProbe(probe.tcpSocket, container, podIp, timeoutMs);
      }
      if (probe.grpc) return { result: 'error', output: "gRPC probes are not supported by Skiff's agent" };
      return { result: 'error', output: 'probe has no handler' };
    } catch (err) {
      if (err instanceof ProbeSetupError) return { result: 'error', output: err.message };
      throw err;
    }
  }

  private report(uid: string, containerId: string, type: ProbeType, outcome: ProbeOutcome, durationMs: number, changed: boolean): void {
    const { metrics, events } = this.options;
    metrics.probeResults.inc({ probe_type: type, result: outcome.result === 'success' ? 'successful' : 'failed' });
    metrics.probeDuration.observe({ probe_type: type }, durationMs / 1000);
    const entry = this.byContainer.get(containerId);
    const pod = this.pods.get(uid);
    if (outcome.result !== 'success' && entry && pod) {
      const verb = outcome.result === 'error' ? 'errored' : 'failed';
      const message = `${TYPE_TITLE[type]} probe ${verb}: ${outcome.output}`;
      // A probe failing every second must not write an event every second (the kubelet's event
      // correlator rate-limits the same way): a new message at once, a repeated one every 10 s.
      const key = `${containerId}/${type}`;
      const last = this.lastEvents.get(key);
      const now = Date.now();
      if (!last || last.message !== message || now - last.atMs >= UNHEALTHY_EVENT_INTERVAL_MS) {
        this.lastEvents.set(key, { message, atMs: now });
        events.unhealthy(pod, entry.container, message);
      }
    }
    if (changed) this.options.onChange(uid);
  }
}
