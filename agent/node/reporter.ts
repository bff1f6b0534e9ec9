// Node status updates: computed every nodeStatusUpdateInterval (10 s), or at once when
// something that decides readiness changes (the engine went away, the pod network appeared),
// and written when it differs from the last write, or when the last write is older than the
// report interval (1 min) so the API always has a recent heartbeat time.

import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { KubeClient } from '../../api/client.js';
import type { AgentConfig } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import type { Engine } from '../runtime/engine.js';
import type { MachineInfo } from './machine.js';
import { pressureFrom, readPressureSignals } from './pressure.js';
import { nodes } from './registration.js';
import type { NodeImage } from './status.js';
import { buildNodeStatus, statusSignature } from './status.js';
import { kubeTime } from '../../api/time.js';

export interface NodeStatusReporterOptions {
  client: KubeClient;
  engine: Engine;
  config: AgentConfig;
  machine: () => MachineInfo;
  /** The Node as the API last showed it. */
  node: () => Node | undefined;
  /** Why the node is not ready (empty: it is). */
  notReady: () => string[];
  engineConnected: () => boolean;
  metrics: AgentMetrics;
  logger: Logger;
  /** Records an event about the Node (condition transitions, as the kubelet reports them). */
  event?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

/** The kubelet's node event reasons for each condition and status. */
const TRANSITION_REASONS: Record<string, Record<string, string>> = {
  MemoryPressure: { False: 'NodeHasSufficientMemory', True: 'NodeHasInsufficientMemory' },
  DiskPressure: { False: 'NodeHasNoDiskPressure', True: 'NodeHasDiskPressure' },
  PIDPressure: { False: 'NodeHasSufficientPID', True: 'NodeHasInsufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

export class NodeStatusReporter {
  private lastSignature = '';
  private lastWriteMs = 0;
  private images: NodeImage[] = [];
  private wake: (() => void) | undefined;
  private pending = false;
  private readonly reported = new Map<string, string>();

  constructor(private readonly options: NodeStatusReporterOptions) {}

  /** Recompute now (debounced with a running update). */
  trigger(): void {
    this.pending = true;
    this.wake?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.pending = false;
      try {
        await this.update();
      } catch (err) {
        this.options.metrics.apiWriteErrors.inc({ what: 'node_status' });
        this.options.logger.warn({ err: String(err) }, 'node status update failed');
      }
      if (this.pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.options.config.nodeStatusUpdateIntervalMs);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.wake = undefined;
    }
  }

  async update(): Promise<void> {
    const { config, machine } = this.options;
    const info = machine();
    const signals = await readPressureSignals(info.dockerRootDir).catch(() => readPressureSignals(config.dataDir));
    if (this.options.engineConnected()) {
      try {
        const listed = await this.options.engine.call('list_images', (d) => d.listImages());
        this.images = listed.map((i) => ({
          names: [...(i.RepoDigests ?? []), ...(i.RepoTags ?? [])].filter((n) => !n.includes('<none>')),
          sizeBytes: i.Size,
        }));
      } catch {
        // keep the last list
      }
    }
    const status = buildNodeStatus({
      machine: info,
      config,
      pressure: pressureFrom(signals, config.eviction),
      notReady: this.options.notReady(),
      images: this.images,
      existing: this.options.node()?.status,
      now: kubeTime(),
    });
    const signature = statusSignature(status);
    const due = Date.now() - this.lastWriteMs >= config.nodeStatusReportIntervalMs;
    if (signature === this.lastSignature && !due) return;
    await this.options.client.patch(nodes, undefined, config.nodeName, { status }, 'merge', { subresource: 'status' });
    this.lastSignature = signature;
    this.lastWriteMs = Date.now();
    for (const c of status.conditions ?? []) {
      if (this.reported.get(c.type) === c.status) continue;
      this.reported.set(c.type, c.status);
      const reason = TRANSITION_REASONS[c.type]?.[c.status];
      if (reason) this.options.event?.('Normal', reason, `Node ${config.nodeName} status is now: ${reason}`);
    }
  }
}
