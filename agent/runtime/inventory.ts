// The agent's view of its containers, rebuilt from Docker alone (the kubelet's PLEG): a full
// re-list of the containers labelled with this node, refreshed container by container from
// Docker's event stream, plus a periodic re-list as a safety net. Docker ends the event stream
// when the daemon restarts and nobody re-opens it for us, so the loop reconnects (resuming from
// the last event's time) and re-lists to catch up. Each change is reported by pod UID.

import type { Logger } from 'pino';
import type { Engine } from './engine.js';
import { isDockerNotFound } from './engine.js';
import type { ContainerIdentity } from './labels.js';
import { identityFromLabels, LABELS } from './labels.js';
import { delay as sleep } from '../../api/delay.js';
import { streamLines } from '../../api/lines.js';
import { readTerminationMessage } from './termination-message.js';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface RuntimeContainer {
  id: string;
  name: string;
  identity: ContainerIdentity;
  /** The image reference the container was created with. */
  image: string;
  /** `sha256:…` of that image. */
  imageId: string;
  createdAt: string;
  state: ContainerState;
  startedAt?: string;
  finishedAt?: string;
  exitCode: number;
  oomKilled: boolean;
  /** Docker's error when the container could not be started. */
  error: string;
  /** Sandboxes: the pod IP (on the pod network). */
  ip?: string;
  /** Exited app and init containers: their termination message (termination-message.ts). */
  terminationMessage?: string;
}

/** A container that runs (or is paused or being restarted by Docker): it has not ended. */
export function isActive(c: RuntimeContainer | undefined): boolean {
  return c?.state === 'running' || c?.state === 'paused' || c?.state === 'restarting';
}

/** Container events that change what the agent knows; exec_* events (probes) are not among them. */
const INTERESTING_ACTIONS = new Set(['create', 'start', 'die', 'oom', 'destroy', 'pause', 'unpause', 'kill']);

const ZERO_TIME = '0001-01-01T00:00:00Z';

function time(value: string | undefined): string | undefined {
  return value && value !== ZERO_TIME ? value : undefined;
}

function fingerprint(c: RuntimeContainer): string {
  return [c.state, c.startedAt, c.finishedAt, c.exitCode, c.oomKilled, c.error, c.ip].join('|');
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export interface InventoryOptions {
  nodeName: string;
  relistIntervalMs: number;
  logger: Logger;
  /** Called with the pod UID whenever one of its containers appeared, changed or vanished. */
  onChange: (podUid: string) => void;
  /** Called when the engine becomes reachable or unreachable. */
  onConnectivity?: (connected: boolean) => void;
}

export class ContainerInventory {
  private readonly containers = new Map<string, RuntimeContainer>();
  private connectedNow = false;
  private lastEventSeconds = 0;
  private readonly filterLabel: string;

  constructor(
    private readonly engine: Engine,
    private readonly options: InventoryOptions,
  ) {
    this.filterLabel = `${LABELS.node}=${options.nodeName}`;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Lists once (when the engine answers) and keeps the view current until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    try {
      this.lastEventSeconds = Math.floor(Date.now() / 1000);
      await this.relist();
    } catch (err) {
      this.setConnected(false);
      this.options.logger.warn({ err: String(err) }, 'Docker engine not reachable; will retry');
    }
    void this.watchEvents(signal);
    const timer = setInterval(() => {
      this.relist().catch((err: unknown) => this.options.logger.debug({ err: String(err) }, 'relist failed'));
    }, this.options.relistIntervalMs);
    timer.unref();
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  forPod(podUid: string): RuntimeContainer[] {
    return [...this.containers.values()].filter((c) => c.identity.podUid === podUid);
  }

  podUids(): Set<string> {
    return new Set([...this.containers.values()].map((c) => c.identity.podUid));
  }

  all(): RuntimeContainer[] {
    return [...this.containers.values()];
  }

  get(id: string): RuntimeContainer | undefined {
    return this.containers.get(id);
  }

  /** Re-reads every container of this node; reports what changed. */
  async relist(): Promise<void> {
    const listed = await this.engine.call('list_containers', (d) => d.listContainers({ all: true, filters: { label: [this.filterLabel] } }));
    this.setConnected(true);
    const seen = new Set<string>();
    await Promise.all(
      listed.map(async (summary) => {
        seen.add(summary.Id);
        const known = this.containers.get(summary.Id);
        if (!known || known.state !== summary.State) await this.refresh(summary.Id);
      }),
    );
    for (const [id, c] of [...this.containers]) {
      if (!seen.has(id)) {
        this.containers.delete(id);
        this.options.onChange(c.identity.podUid);
      }
    }
  }

  /** Re-reads one container (after the agent acted on it, or on an event). */
  async refresh(id: string, notify = true): Promise<RuntimeContainer | undefined> {
    let info;
    try {
      info = await this.engine.call('inspect_container', (d) => d.getContainer(id).inspect());
    } catch (err) {
      if (!isDockerNotFound(err)) throw err;
      this.forget(id, notify);
      return undefined;
    }
    const identity = identityFromLabels(info.Config.Labels);
    if (!identity || identity.node !== this.options.nodeName) return undefined;
    const networks = Object.values(info.NetworkSettings?.Networks ?? {});
    const ip = networks.map((n) => n.IPAddress).find((a) => a) || undefined;
    const container: RuntimeContainer = {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      identity,
      image: info.Config.Image,
      imageId: info.Image,
      createdAt: info.Created,
      state: info.State.Status as ContainerState,
      startedAt: time(info.State.StartedAt),
      finishedAt: time(info.State.FinishedAt),
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      error: info.State.Error ?? '',
      ip,
    };
    const before = this.containers.get(id);
    if ((container.state === 'exited' || container.state === 'dead') && identity.terminationMessageFile) {
      // Read once per exit: the file does not change once its container has ended.
      container.terminationMessage =
        before && before.finishedAt === container.finishedAt && before.terminationMessage !== undefined
          ? before.terminationMessage
          : await readTerminationMessage(this.engine, {
              id,
              tty: !!info.Config.Tty,
              exitCode: container.exitCode,
              file: identity.terminationMessageFile,
              policy: identity.terminationMessagePolicy ?? 'File',
            }).catch((err: unknown) => {
              this.options.logger.debug({ err: String(err), id }, 'reading the termination message failed');
              return '';
            });
    }
    this.containers.set(id, container);
    if (notify && (!before || fingerprint(before) !== fingerprint(container))) this.options.onChange(identity.podUid);
    return container;
  }

  /** Drops a container the agent removed. */
  forget(id: string, notify = true): void {
    const c = this.containers.get(id);
    if (!c) return;
    this.containers.delete(id);
    if (notify) this.options.onChange(c.identity.podUid);
  }

  private setConnected(connected: boolean): void {
    if (connected === this.connectedNow) return;
    this.connectedNow = connected;
    this.options.onConnectivity?.(connected);
  }

  private async watchEvents(signal: AbortSignal): Promise<void> {
    let backoff = 250;
    let needRelist = false;
    while (!signal.aborted) {
      try {
        const stream = await this.engine.call('events', (d) =>
          d.getEvents({
            since: this.lastEventSeconds,
            filters: { type: ['container'], label: [this.filterLabel] },
            abortSignal: signal,
          } as object),
        );
        if (needRelist) await this.relist();
        needRelist = true;
        backoff = 250;
        await this.consume(stream, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.setConnected(false);
        this.options.logger.debug({ err: String(err) }, 'Docker event stream failed');
      }
      if (signal.aborted) return;
      // The stream ended: the daemon stopped or restarted. Reconnect, then re-list.
      needRelist = true;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  private async consume(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
    const onAbort = () => (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const line of streamLines(stream as AsyncIterable<Buffer>)) {
        if (line.trim()) this.handle(line.trim());
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private handle(line: string): void {
    let event: DockerEvent;
    try {
      event = JSON.parse(line) as DockerEvent;
    } catch {
      return;
    }
    if (event.time) this.lastEventSeconds = Math.max(this.lastEventSeconds, event.time);
    const action = (event.Action ?? event.status ?? '').split(':')[0] ?? '';
    const id = event.Actor?.ID ?? event.id;
    if (!id || !INTERESTING_ACTIONS.has(action)) return;
    if (action === 'destroy') {
      this.forget(id);
      return;
    }
    this.refresh(id).catch((err: unknown) => this.options.logger.debug({ err: String(err), id }, 'inspect after event failed'));
  }
}
