// Runs workload controllers against a real API server without agents: the test plays the
// agents' part (Node objects, bindings, pod status through pods/status). Controllers get a
// ControllerContext like the controller-manager's: a client fenced by a leader Lease, shared
// informers, an event recorder.

import { setMaxListeners } from 'node:events';
import { pino } from 'pino';
import { KubeClient } from '../../api/client.js';
import type { WatchOptions } from '../../api/client.js';
import { EventRecorder } from '../../api/events.js';
import { Informer } from '../../api/informer.js';
import type { KubeObject, WatchEvent } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { ResourceType } from '../../api/resources.js';
import { SharedInformers } from '../../api/shared-informers.js';
import { kubeTime } from '../../api/time.js';
import type { Controller, ControllerContext } from '../../controlplane/controllers/context.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

export const podsResource = resourceFor('', 'pods');
export const nodesResource = resourceFor('', 'nodes');
const leases = resourceFor('coordination.k8s.io', 'leases');

export interface RunningControllers {
  client: KubeClient;
  ctx: ControllerContext;
  stop(): Promise<void>;
}

export function adminClient(c: TestCluster): KubeClient {
  return new KubeClient({ server: c.url, token: c.controlPlane.adminToken, caPem: c.controlPlane.caCertPem });
}

export interface ControllerOptions {
  /** What the informers read through: e.g. a client whose watch events arrive late. */
  informerClient?: KubeClient;
  identity?: string;
  /**
   * The client the controllers write through, made from the fenced one (e.g. a client that lets
   * the test act just before a controller's write). `stop()` closes it.
   */
  controllerClient?: (fenced: KubeClient) => KubeClient;
}

/** Starts `controllers` with their own informers. */
export async function startControllers(c: TestCluster, controllers: Controller[], options: ControllerOptions = {}): Promise<RunningControllers> {
  const client = adminClient(c);
  const identity = options.identity ?? 'test-controller-manager';
  const leaseName = `workloads-${identity}`;
  await client
    .create(leases, 'kube-system', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName },
      spec: { holderIdentity: identity, leaseDurationSeconds: 3600 },
    })
    .catch(() => undefined);
  const fenced = client.fenced({ namespace: 'kube-system', name: leaseName }, identity);
  const informers = new SharedInformers(options.informerClient ?? client, { minBackoffMs: 100, maxBackoffMs: 1000 });
  const recorder = new EventRecorder(client, { component: 'skiff-controller-manager' });
  const ctx: ControllerContext = { client: options.controllerClient?.(fenced) ?? fenced, informers, recorder, logger: pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' }) };
  const abort = new AbortController();
  // Every informer and worker pool listens on this one signal.
  setMaxListeners(100, abort.signal);
  const runs = controllers.map((controller) => controller.run(ctx, abort.signal));
  await informers.start(abort.signal);
  return {
    client,
    ctx,
    async stop() {
      abort.abort();
      await Promise.allSettled(runs);
      await informers.stopped();
      await recorder.flush();
      // The fenced client shares `client`'s connections (closing it does nothing); a wrapper may not.
      await ctx.client.close();
      await client.close();
      if (options.informerClient) await options.informerClient.close();
    },
  };
}

export async function createNode(client: KubeClient, name: string, options: { labels?: Record<string, string>; taints?: unknown[]; ready?: boolean } = {}): Promise<KubeObject> {
  const node = await client.create(nodesResource, undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...options.labels } },
    spec: options.taints ? { taints: options.taints } : {},
  });
  return client.updateStatus(nodesResource, undefined, {
    ...node,
    status: {
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True', reason: 'KubeletReady', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    },
  });
}

function now(offsetMs = 0): string {
  return kubeTime(Date.now() + offsetMs);
}

let nextIp = 10;

/** Binds a pod to `node` if it is not bound yet (what the scheduler does). */
export async function bindPod(client: KubeClient, namespace: string, name: string, node: string): Promise<void> {
  await client.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
  });
}

export interface PodStatusOptions {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready?: boolean;
  ip?: string | null;
  /** How long ago the pod became ready. */
  readyForMs?: number;
  restartCount?: number;
}

/** Writes a pod status as an agent would (Running, an IP, the Ready condition). */
export async function setPodStatus(client: KubeClient, namespace: string, name: string, options: PodStatusOptions = {}): Promise<KubeObject> {
  const pod = await client.get(podsResource, namespace, name);
  const phase = options.phase ?? 'Running';
  const ready = options.ready ?? phase === 'Running';
  const ip = options.ip === null ? undefined : (options.ip ?? `10.42.0.${nextIp++ % 250}`);
  const containers = ((pod['spec'] as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
  const terminated = phase === 'Succeeded' || phase === 'Failed';
  const status: Record<string, unknown> = {
    ...(pod['status'] as object),
    phase,
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now() },
      { type: 'Initialized', status: 'True', lastTransitionTime: now() },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now(-(options.readyForMs ?? 0)) },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now(-(options.readyForMs ?? 0)) },
    ],
    containerStatuses: containers.map((c) => ({
      name: c,
      image: 'busybox',
      imageID: '',
      ready,
      started: !terminated,
      restartCount: options.restartCount ?? 0,
      state: terminated
        ? { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: now(-1000), finishedAt: now() } }
        : { running: { startedAt: now() } },
    })),
    startTime: now(),
  };
  if (ip) {
    status['podIP'] = ip;
    status['podIPs'] = [{ ip }];
  }
  return client.updateStatus(podsResource, namespace, { ...pod, status });
}

/** The pods in `namespace` whose labels include `labels` (live from the API, not a cache). */
export async function listPods(client: KubeClient, namespace: string, labelSelector = ''): Promise<KubeObject[]> {
  return (await client.list(podsResource, namespace, { labelSelector })).items;
}

/**
 * Every version of one object from `resourceVersion` on, as a watch delivers them: a state that
 * lasts only until a controller's next write may be missed by polling, never by a watch.
 */
export function recordVersions<T extends KubeObject = KubeObject>(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  resourceVersion: string,
): { versions: T[]; stop(): Promise<void> } {
  const abort = new AbortController();
  const versions: T[] = [];
  const watching = (async () => {
    try {
      for await (const event of client.watch<T>(resource, namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion, signal: abort.signal })) {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') versions.push(event.object);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();
  return {
    versions,
    async stop() {
      abort.abort();
      await watching;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A client whose watch events reach the informers `lagMs(resource)` late (each event delayed
 * from when it arrived, order kept): a slow informer, as a loaded controller-manager sees one.
 */
export class LaggingClient extends KubeClient {
  constructor(
    c: TestCluster,
    private readonly lagMs: (resource: ResourceType) => number,
  ) {
    super({ server: c.url, token: c.controlPlane.adminToken, caPem: c.controlPlane.caCertPem });
  }

  override async *watch<T extends KubeObject = KubeObject>(r: ResourceType, namespace: string | undefined, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const lag = this.lagMs(r);
    const source = super.watch<T>(r, namespace, options);
    if (lag <= 0) {
      yield* source;
      return;
    }
    const buffered: { event: WatchEvent<T>; at: number }[] = [];
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    void (async () => {
      try {
        for await (const event of source) {
          buffered.push({ event, at: Date.now() });
          wake?.();
        }
      } catch (err) {
        failure = err;
      } finally {
        done = true;
        wake?.();
      }
    })();
    while (true) {
      const next = buffered.shift();
      if (next) {
        const wait = next.at + lag - Date.now();
        if (wait > 0) await sleep(wait);
        yield next.event;
        continue;
      }
      if (done) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
}

export interface SimulatorOptions {
  /** Nodes to bind unbound pods to (round robin), as the scheduler would. */
  nodes: string[];
  /** How long after it appears a pod becomes Running and Ready. */
  readyAfterMs?: number;
  /** Pods for which this returns false start but never become ready. */
  becomesReady?: (pod: KubeObject) => boolean;
  /** How long a gracefully deleted pod takes to stop. */
  terminateAfterMs?: number;
  /** For run-to-completion pods: how each ends, `runForMs` after it became Running. */
  finish?: (pod: KubeObject) => 'Succeeded' | 'Failed' | undefined;
  runForMs?: number;
}

/**
 * Plays scheduler and agents for the tests: binds new pods to nodes, reports them Running and
 * Ready after a delay, and finishes graceful deletions.
 */
export class PodSimulator {
  private readonly abort = new AbortController();
  private readonly informer: Informer<KubeObject>;
  private readonly handled = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private next = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: SimulatorOptions,
  ) {
    this.informer = new Informer<KubeObject>(client, podsResource, { minBackoffMs: 100 });
    this.informer.on({ add: (p) => this.observe(p), update: (_o, p) => this.observe(p) });
  }

  async start(): Promise<void> {
    await this.informer.start(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    await this.informer.stopped();
  }

  private later(ms: number, fn: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.abort.signal.aborted) void fn().catch(() => undefined);
    }, ms);
    this.timers.add(timer);
  }

  private observe(pod: KubeObject): void {
    const meta = pod.metadata!;
    const ns = meta.namespace!;
    const name = meta.name!;
    const key = `${meta.uid}`;
    if (meta.deletionTimestamp) {
      if (this.handled.has(`del:${key}`)) return;
      this.handled.add(`del:${key}`);
      this.later(this.options.terminateAfterMs ?? 100, () => this.client.delete(podsResource, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } }));
      return;
    }
    if (this.handled.has(key)) return;
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    if (phase && phase !== 'Pending') return;
    this.handled.add(key);
    const nodeName = (pod['spec'] as { nodeName?: string }).nodeName;
    const node = affinityNode(pod) ?? this.options.nodes[this.next++ % this.options.nodes.length]!;
    this.later(0, async () => {
      if (!nodeName) await bindPod(this.client, ns, name, node);
      const ready = this.options.becomesReady?.(pod) ?? true;
      this.later(this.options.readyAfterMs ?? 200, async () => {
        await setPodStatus(this.client, ns, name, { ready });
        const end = this.options.finish?.(pod);
        if (end) this.later(this.options.runForMs ?? 200, () => setPodStatus(this.client, ns, name, { phase: end, ip: null }));
      });
    });
  }
}

/** The node a DaemonSet pod is pinned to by its required node affinity on metadata.name. */
function affinityNode(pod: KubeObject): string | undefined {
  const terms = (pod['spec'] as any)?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.[0];
  }
  return undefined;
}

/** A test API server with controllers running, some nodes, and a PodSimulator playing their agents. */
export interface SimulatedCluster {
  c: TestCluster;
  run: RunningControllers;
  client: KubeClient;
  simulator: PodSimulator;
  close(): Promise<void>;
}

export async function startSimulatedCluster(
  controllers: Controller[],
  nodes: Record<string, Parameters<typeof createNode>[2]>,
  simulatorOptions: SimulatorOptions,
  controllerOptions: ControllerOptions = {},
): Promise<SimulatedCluster> {
  const c = await startTestCluster();
  const run = await startControllers(c, controllers, controllerOptions);
  const client = run.client;
  for (const [name, options] of Object.entries(nodes)) await createNode(client, name, options);
  const simulator = new PodSimulator(client, simulatorOptions);
  await simulator.start();
  return {
    c,
    run,
    client,
    simulator,
    close: async () => {
      await simulator.stop();
      await run.stop();
      await c.close();
    },
  };
}
