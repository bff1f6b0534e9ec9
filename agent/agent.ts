// `skiff agent`, assembled: the node (registration, lease, status), the pod network, the
// container inventory, the pod workers with their probes, and the sources the agent's endpoint
// serves (logs, resource usage, metrics). Nothing here waits for the API server or the Docker
// engine to be reachable: each part retries on its own, so pods keep running through outages of
// either and the agent catches up when they return.

import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeClient } from '../api/client.js';
import { EventRecorder, EVENTS_DROPPED } from '../api/events.js';
import { Informer } from '../api/informer.js';
import type { KubeObject } from '../api/objects.js';
import { connectToApiServer } from './apiclient.js';
import type { AgentConfig, AgentOptions } from './config.js';
import { agentConfig } from './config.js';
import type { AgentMetricsHook, ContainerLogSource, ContainerStreamSource, ResourceUsageSource } from './interfaces.js';
import { AgentMetrics } from './metrics.js';
import { NodeLease } from './node/lease.js';
import type { MachineInfo } from './node/machine.js';
import { goArch, readMachineInfo } from './node/machine.js';
import { nodes, registerNode } from './node/registration.js';
import { NodeStatusReporter } from './node/reporter.js';
import { nodeAllocatableBytes } from './node/status.js';
import { BackOff } from './pods/backoff.js';
import type { WorkerContext } from './pods/context.js';
import { PodEvents } from './pods/events.js';
import { PodManager } from './pods/manager.js';
import { ReferencedObjects } from './pods/referenced-objects.js';
import { ProbeManager } from './probes/manager.js';
import { dockerErrorMessage, dockerFromHost, Engine, engineIsLocal } from './runtime/engine.js';
import { ImageService } from './runtime/images.js';
import { ContainerInventory } from './runtime/inventory.js';
import { DockerLogs } from './runtime/logs.js';
import { DockerSessions } from './runtime/sessions.js';
import { PodNetwork } from './runtime/network.js';
import { DockerUsage } from './runtime/stats.js';
import { PodStatusWriter } from './status/writer.js';
import { delay as sleep } from '../api/delay.js';

export interface Agent extends AgentMetricsHook {
  config: AgentConfig;
  client: KubeClient;
  logs: ContainerLogSource;
  streams: ContainerStreamSource;
  usage: ResourceUsageSource;
  registry: Registry;
  /** Resolves once the Node is registered and the pods bound to it are listed. */
  ready: Promise<void>;
  close(): Promise<void>;
}

type NodeObject = Node & KubeObject;

/** Until Docker answers: what the node can say about itself without it. */
function fallbackMachine(config: AgentConfig): MachineInfo {
  return {
    hostname: os.hostname(),
    osImage: `${os.type()} ${os.release()}`,
    kernelVersion: os.release(),
    operatingSystem: os.platform(),
    architecture: goArch(),
    machineID: '',
    systemUUID: '',
    bootID: '',
    containerRuntimeVersion: 'docker://unknown',
    dockerRootDir: config.dataDir,
    cpuCores: os.cpus().length,
    memoryBytes: os.totalmem(),
    ephemeralStorageBytes: 0,
  };
}

async function retry<T>(what: string, fn: () => Promise<T>, signal: AbortSignal, logger: Logger): Promise<T> {
  let delay = 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw err;
      logger.warn({ err: String(err) }, `${what} failed; retrying`);
      await sleep(delay, signal);
      if (signal.aborted) throw new Error('agent stopped');
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const config = agentConfig(options);
  const logger = config.logger ?? pino({ name: 'skiff-agent' });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const client = await connectToApiServer(config);
  const metrics = new AgentMetrics(config.metricsRegistry);
  const engine = new Engine(dockerFromHost(config.dockerHost), metrics);
  const abort = new AbortController();
  const signal = abort.signal;
  // One signal stops every loop, watch and request of the agent: many listeners are expected.
  setMaxListeners(1000, signal);
  const agentStartMs = Date.now();

  let machine = fallbackMachine(config);
  let machineKnown = false;
  const refreshMachine = async () => {
    try {
      machine = await readMachineInfo(engine, config.dataDir);
      machineKnown = true;
    } catch (err) {
      logger.warn({ err: String(err) }, 'could not read the machine and Docker facts yet');
    }
  };
  await refreshMachine();

  const recorder = new EventRecorder(client, { component: 'kubelet', host: config.nodeName }, {
    onError: (err) => logger.debug({ err: String(err) }, 'event not recorded'),
    onDropped: (count) => logger.warn({ dropped: count }, EVENTS_DROPPED),
  });
  const network = new PodNetwork(engine, config.nodeName, config.dockerLabels, logger);
  let networkError: string | undefined;
  let currentNode: NodeObject | undefined;
  let reporter: NodeStatusReporter | undefined;

  const inventory = new ContainerInventory(engine, {
    nodeName: config.nodeName,
    relistIntervalMs: config.relistIntervalMs,
    logger,
    onChange: (uid) => manager.runtimeChanged(uid),
    onConnectivity: (connected) => {
      logger.info({ connected }, connected ? 'Docker engine reachable' : 'Docker engine unreachable');
      if (connected) {
        if (!machineKnown) void refreshMachine();
        network.reset();
        void ensureNetwork();
        manager.resyncAll();
      }
      reporter?.trigger();
    },
  });

  // One network operation at a time: node updates and reconnects can ask at once.
  let networkChain: Promise<void> = Promise.resolve();
  const ensureNetwork = (): Promise<void> =>
    (networkChain = networkChain.then(async () => {
      const cidr = currentNode?.spec?.podCIDR;
      if (!cidr || network.cidr === cidr) return;
      try {
        await network.ensure(cidr);
        networkError = undefined;
        manager.resyncAll();
      } catch (err) {
        networkError = dockerErrorMessage(err);
        logger.error({ err: networkError }, 'pod network not ready');
      }
      reporter?.trigger();
    }));

  const probes = new ProbeManager({
    engine,
    metrics,
    logger,
    agentStartMs,
    events: { unhealthy: (pod, container, message) => events.container(pod, container, 'Warning', 'Unhealthy', message) },
    onChange: (uid) => manager.runtimeChanged(uid),
  });
  const events = new PodEvents(recorder);
  const ctx: WorkerContext = {
    config,
    client,
    engine,
    inventory,
    images: new ImageService(engine),
    network,
    probes,
    events,
    objects: new ReferencedObjects(client),
    statusWriter: new PodStatusWriter(client),
    metrics,
    logger,
    restartBackOff: new BackOff(config.crashLoopBackOff.initialMs, config.crashLoopBackOff.maxMs),
    imageBackOff: new BackOff(config.imagePullBackOff.initialMs, config.imagePullBackOff.maxMs),
    sandboxBackOff: new BackOff(Math.min(1000, config.crashLoopBackOff.initialMs), config.crashLoopBackOff.maxMs),
    hostIp: config.nodeIp,
    allocatable: () => {
      const bytes = nodeAllocatableBytes(machine, config);
      return { cpuMilli: machine.cpuCores * 1000, memoryBytes: bytes.memory, ephemeralStorageBytes: bytes.ephemeralStorage };
    },
    agentStartMs,
  };
  const manager = new PodManager(ctx);
  metrics.countRunning(() => manager.runningCounts());

  const notReady = (): string[] => {
    const reasons: string[] = [];
    if (!inventory.connected) reasons.push('container runtime is down');
    if (networkError) reasons.push(`network not ready: ${networkError}`);
    else if (!network.ready) reasons.push(`network not ready: no pod CIDR assigned to node ${config.nodeName} yet`);
    return reasons;
  };

  const nodeInformer = new Informer<NodeObject>(client, nodes, {
    fieldSelector: `metadata.name=${config.nodeName}`,
    maxBackoffMs: 10_000,
    onError: (err) => logger.debug({ err: String(err) }, 'node watch failed; retrying'),
  });
  const nodeChanged = (node: NodeObject) => {
    currentNode = node;
    void ensureNetwork();
  };
  nodeInformer.on({ add: nodeChanged, update: (_old, node) => nodeChanged(node) });

  await inventory.start(signal);

  const background: Promise<unknown>[] = [];
  const ready = (async () => {
    const registered = await retry('node registration', () => registerNode(client, config.nodeName, machine), signal, logger);
    currentNode = registered;
    logger.info({ node: config.nodeName }, 'node registered');
    recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: config.nodeName, uid: registered.metadata?.uid } }, 'Normal', 'Starting', 'Starting kubelet.');
    reporter = new NodeStatusReporter({
      client,
      engine,
      config,
      machine: () => machine,
      node: () => currentNode,
      notReady,
      engineConnected: () => inventory.connected,
      metrics,
      logger,
      event: (type, reason, message) => {
        const node = currentNode;
        recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: config.nodeName, uid: node?.metadata?.uid } }, type, reason, message);
      },
    });
    const lease = new NodeLease({
      client,
      nodeName: config.nodeName,
      nodeUid: () => currentNode?.metadata?.uid,
      durationSeconds: config.leaseDurationSeconds,
      renewIntervalMs: config.leaseRenewIntervalMs,
      logger,
      onFailure: () => metrics.apiWriteErrors.inc({ what: 'node_lease' }),
    });
    background.push(reporter.run(signal), lease.run(signal));
    await Promise.all([nodeInformer.start(signal), manager.start(signal)]);
    logger.info({ pods: manager.podCount }, 'pods bound to this node listed');
  })();
  // A caller that never awaits `ready` must not see an unhandled rejection at close.
  ready.catch(() => undefined);

  return {
    config,
    client,
    registry: metrics.registry,
    logs: new DockerLogs(engine, manager.locateContainer),
    streams: new DockerSessions(engine, manager.locateContainer, manager.locatePodNetwork, engineIsLocal(config.dockerHost) ? undefined : config.dockerHost),
    usage: new DockerUsage(engine, manager.runningContainers),
    ready,
    async close() {
      abort.abort();
      await manager.close();
      probes.stopAll();
      await Promise.allSettled([ready, ...background, nodeInformer.stopped(), manager.informer.stopped()]);
      await Promise.race([recorder.flush(), new Promise((r) => setTimeout(r, 1000).unref())]);
      await client.close();
    },
  };
}
