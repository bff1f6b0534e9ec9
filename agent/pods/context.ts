// What a pod worker works with: the agent's configuration, its connections (API, Docker) and
// the node-wide services it shares with every other pod worker.

import type { Logger } from 'pino';
import type { KubeClient } from '../../api/client.js';
import type { AgentConfig } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import type { ProbeManager } from '../probes/manager.js';
import type { Engine } from '../runtime/engine.js';
import type { ImageService } from '../runtime/images.js';
import type { ContainerInventory } from '../runtime/inventory.js';
import type { PodNetwork } from '../runtime/network.js';
import type { PodStatusWriter } from '../status/writer.js';
import type { BackOff } from './backoff.js';
import type { NodeAllocatable } from './downward.js';
import type { PodEvents } from './events.js';
import type { ReferencedObjects } from './referenced-objects.js';

export interface WorkerContext {
  config: AgentConfig;
  client: KubeClient;
  engine: Engine;
  inventory: ContainerInventory;
  images: ImageService;
  network: PodNetwork;
  probes: ProbeManager;
  events: PodEvents;
  objects: ReferencedObjects;
  statusWriter: PodStatusWriter;
  metrics: AgentMetrics;
  logger: Logger;
  /** CrashLoopBackOff, keyed `<pod uid>/<container>`. */
  restartBackOff: BackOff;
  /** ImagePullBackOff, keyed `<pod uid>/<image>`. */
  imageBackOff: BackOff;
  /** Sandbox creation retries, keyed by pod uid. */
  sandboxBackOff: BackOff;
  hostIp: string;
  allocatable(): NodeAllocatable;
  agentStartMs: number;
}

/** The pod's directory in the agent's data dir (volumes, hosts, resolv.conf). */
export function podDir(config: AgentConfig, uid: string): string {
  return `${config.dataDir}/pods/${uid}`;
}
