// Scheduling throughput with hollow nodes, side by side with its anchor.
//
//   npx tsx bench/scheduler.ts            (or node dist/bench/scheduler.js after a build)
//   NODES=1000 PODS=10000 INIT_PODS=1000 CONCURRENCY=64 RUNS=scheduler,anchor npx tsx bench/scheduler.ts
//   DEBUG_METRICS=1 ...   also prints the API requests and store operations the scheduler run cost
//                         (from the server's /metrics, before and after)
//
// A real `skiff server` (API server and the whole controller-manager in one process, as users run
// it) with 1,000 Node objects that the benchmark keeps alive (a Lease renewal per node every 10 s,
// as kubelets do; no agents, no containers), on which the scheduler has first placed INIT_PODS
// (1,000) pods that are not measured, as scheduler_perf's SchedulingBasic does. Then:
// - scheduler: 10,000 pods (100 owners, small requests) are created by CONCURRENCY clients while
//   the scheduler binds them; throughput is pods bound per second from the first create to the
//   last binding seen on a watch, and latency is create → bound per pod (p50, p99).
// - backlog: what a new leader does with 10,000 pods pending, the scheduler's own throughput
//   without the creates competing for the machine (kube-scheduler's scheduler_perf creates its
//   pods far faster than they are scheduled, so it measures this too). The benchmark takes the
//   controller-manager's Lease (the server's leader stops acting, as when deposed), creates the
//   pods, and releases the Lease: throughput is pods bound per second from the release (the
//   server's controller-manager then takes over, lists, and starts scheduling) to the last
//   binding.
// - anchor: the same number of pods with another schedulerName, created and then bound by the
//   benchmark itself through pods/binding at the same concurrency: the API server's own ceiling
//   for "create + bind" on this machine, which no scheduler can beat.
// - deployment: `kubectl apply` of a Deployment of DEPLOYMENT_REPLICAS (100) replicas, timed
//   from the moment kubectl starts to the last pod seen bound on a watch: the deployment
//   controller, the ReplicaSet controller (which creates pods in slow-start batches of 1, 2, 4,
//   … as Kubernetes' does) and the scheduler in series. Its anchor: the same number of pods
//   created and bound by the benchmark itself, 16 at a time, with nothing in between.
// Each run also says how many cores were busy and where (bench/proc.ts): on a 2-core machine the
// benchmark, the API server and the scheduler compete, and a throughput means little without that.
// Target (issue 4): >= 1,000 pods/s. kube-scheduler's CI threshold for 5,000 nodes and 10,000
// pods is 680 pods/s (on its own, larger machines).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isConflict, KubeClient } from '../api/client.js';
import { Informer } from '../api/informer.js';
import { readKubeconfig } from '../api/kubeconfig.js';
import type { KubeObject } from '../api/objects.js';
import { resourceFor, resourcePath } from '../api/resources.js';
import { eventually } from '../test/helpers/cluster.js';
import { runSkiffServer } from '../test/helpers/skiff-process.js';
import type { SkiffProcess } from '../test/helpers/skiff-process.js';
import { CONTROLLER_MANAGER_LEASE } from '../controlplane/controllers/manager.js';
import { kubeMicroTime, kubeTime } from '../api/time.js';
import { cpuSeconds } from './proc.js';

const NODES = Number(process.env['NODES'] ?? 1000);
const PODS = Number(process.env['PODS'] ?? 10_000);
const CONCURRENCY = Number(process.env['CONCURRENCY'] ?? 64);
/** Pods scheduled before anything is measured, as scheduler_perf's SchedulingBasic `initPods` (1,000 for its 10,000 measured pods). */
const INIT_PODS = Number(process.env['INIT_PODS'] ?? 1000);
const OWNERS = 100;
const DEPLOYMENT_REPLICAS = Number(process.env['DEPLOYMENT_REPLICAS'] ?? 100);
/** RUNS=scheduler (or anchor, or deployment) runs one of them alone (e.g. to profile it). */
const RUNS = (process.env['RUNS'] ?? 'scheduler,backlog,anchor,deployment').split(',');
const KUBECTL = process.env['SKIFF_KUBECTL'] ?? 'kubectl';
const LEASE_RENEW_MS = 10_000;

const nodes = resourceFor('', 'nodes');
const pods = resourceFor('', 'pods');
const leases = resourceFor('coordination.k8s.io', 'leases');
const namespaces = resourceFor('', 'namespaces');
const configmaps = resourceFor('', 'configmaps');

type PodLike = KubeObject & { spec?: { nodeName?: string } };

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

async function addNodes(client: KubeClient): Promise<void> {
  const names = Array.from({ length: NODES }, (_, i) => `hollow-${String(i).padStart(4, '0')}`);
  await pool(names, 32, async (name) => {
    await client.create<KubeObject>(nodes, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    });
    const resources = { cpu: '32', memory: '128Gi', pods: '110' };
    const now = kubeTime();
    const status = {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow', lastHeartbeatTime: now, lastTransitionTime: now }],
    };
    await client.patch(nodes, undefined, name, { status }, 'merge', { subresource: 'status' });
    await client.create<KubeObject>(leases, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: kubeMicroTime() },
    });
  });
}

/**
 * Renews every node's Lease once per LEASE_RENEW_MS, spread evenly, as 1,000 kubelets would: an
 * update of the Lease the previous renewal returned, and a GET only when there is none (the
 * first time, or after a failure), as the kubelet's lease controller does.
 */
function keepNodesAlive(client: KubeClient): () => void {
  let i = 0;
  const latest = new Map<string, KubeObject>();
  const timer = setInterval(() => {
    const name = `hollow-${String(i++ % NODES).padStart(4, '0')}`;
    void (async () => {
      try {
        const lease = latest.get(name) ?? (await client.get<KubeObject>(leases, 'kube-node-lease', name));
        latest.set(name, await client.update(leases, 'kube-node-lease', { ...lease, spec: { ...(lease['spec'] as object), renewTime: kubeMicroTime() } }));
      } catch {
        latest.delete(name);
      }
    })();
  }, LEASE_RENEW_MS / NODES);
  return () => clearInterval(timer);
}

/**
 * The pods' owners: ConfigMaps, so that the garbage collector finds them alive and no workload
 * controller acts on them; the scheduler spreads by the controller reference whatever its kind.
 */
async function createOwners(client: KubeClient, namespace: string): Promise<{ name: string; uid: string }[]> {
  const owners: { name: string; uid: string }[] = [];
  for (let i = 0; i < OWNERS; i++) {
    const cm = await client.create<KubeObject>(configmaps, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `owner-${i}` } });
    owners.push({ name: cm.metadata!.name!, uid: cm.metadata!.uid! });
  }
  return owners;
}

function podManifest(name: string, owner: { name: string; uid: string }, schedulerName?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: owner.name },
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: owner.uid, controller: true }],
    },
    spec: {
      schedulerName,
      containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
}

interface Run {
  /** Cores busy during the run: the server's main thread (the API server), its other threads (the controller-manager with the scheduler, GC helpers) and this benchmark. */
  cores?: { apiServer: number; serverOther: number; benchmark: number };
  podsPerSecond: number;
  createsPerSecond: number;
  p50: number;
  p99: number;
  seconds: number;
}

/**
 * Records when each pod of a namespace is first seen bound. An informer, because a watcher that
 * falls too far behind is closed by the API server and must resume (or re-list).
 */
async function watchBindings(client: KubeClient, namespace: string, boundAt: Map<string, number>, signal: AbortSignal): Promise<Informer<PodLike>> {
  const informer = new Informer<PodLike>(client, pods, { namespace, minBackoffMs: 50 });
  const seen = (p: PodLike) => {
    const name = p.metadata?.name ?? '';
    if (p.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, performance.now());
  };
  informer.on({ add: seen, update: (_old, p) => seen(p) });
  await informer.start(signal);
  return informer;
}

/** Waits until `count` pods are seen bound, reporting progress every 5 s; returns when the last was. */
async function waitForBound(boundAt: Map<string, number>, count: number, what: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let lastReport = started;
  while (boundAt.size < count) {
    const now = performance.now();
    if (now - started > timeoutMs) throw new Error(`${what}: only ${boundAt.size}/${count} pods bound after ${timeoutMs / 1000} s`);
    if (now - lastReport > 5000) {
      process.stderr.write(`  ${what}: ${boundAt.size}/${count} bound after ${((now - started) / 1000).toFixed(0)} s\n`);
      lastReport = now;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return Math.max(...boundAt.values());
}

/** What a scheduler does for a pod, done by hand: bind it to `node`. */
async function bind(client: KubeClient, namespace: string, name: string, node: string): Promise<void> {
  await client.request('POST', resourcePath(pods, namespace, name, 'binding'), {
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
  });
}

/** Times a small GET every 100 ms (what a Lease renewal waits for) until `signal` aborts. */
async function probeLatency(client: KubeClient, signal: AbortSignal): Promise<number[]> {
  const samples: number[] = [];
  while (!signal.aborted) {
    const t = performance.now();
    await client.get(namespaces, undefined, 'default');
    samples.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  return samples;
}

/** CPU seconds used so far by the server (its main thread and in all) and by this process. */
async function cpuNow(serverPid: number | undefined): Promise<{ main: number; server: number; benchmark: number } | undefined> {
  if (serverPid === undefined) return undefined;
  const { user, system } = process.cpuUsage();
  return { main: await cpuSeconds(serverPid, serverPid), server: await cpuSeconds(serverPid), benchmark: (user + system) / 1e6 };
}

type CpuReading = Awaited<ReturnType<typeof cpuNow>>;

/** Cores busy between two readings `wall` seconds apart, by part. */
function coresBusy(before: CpuReading, after: CpuReading, wall: number): Run['cores'] {
  if (!before || !after) return undefined;
  return {
    apiServer: (after.main - before.main) / wall,
    serverOther: (after.server - after.main - (before.server - before.main)) / wall,
    benchmark: (after.benchmark - before.benchmark) / wall,
  };
}

async function measure(client: KubeClient, namespace: string, bindYourself: boolean, serverPid: number | undefined, count = PODS): Promise<Run> {
  await client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const owners = await createOwners(client, namespace);
  const boundAt = new Map<string, number>();
  const sentAt = new Map<string, number>();
  const stop = new AbortController();
  const informer = await watchBindings(client, namespace, boundAt, stop.signal);
  const names = Array.from({ length: count }, (_, i) => `p-${i}`);
  const probe = probeLatency(client, stop.signal);
  const cpuBefore = await cpuNow(serverPid);
  const started = performance.now();
  let created = 0;
  let createsDone = 0;
  await pool(names, CONCURRENCY, async (name) => {
    const index = created++;
    sentAt.set(name, performance.now());
    await client.create(pods, namespace, podManifest(name, owners[index % OWNERS]!, bindYourself ? 'bench-direct' : undefined));
    createsDone = performance.now();
    if (bindYourself) await bind(client, namespace, name, `hollow-${String(index % NODES).padStart(4, '0')}`);
  });
  await waitForBound(boundAt, count, namespace, 600_000);
  const cpuAfter = await cpuNow(serverPid);
  const wall = (performance.now() - started) / 1000;
  stop.abort();
  await informer.stopped();
  const probes = (await probe).sort((a, b) => a - b);
  process.stderr.write(`  ${namespace}: GET of one object under this load: p50 ${percentile(probes, 50).toFixed(0)} ms, p99 ${percentile(probes, 99).toFixed(0)} ms, max ${probes[probes.length - 1]?.toFixed(0)} ms\n`);
  const last = Math.max(...boundAt.values());
  const latencies = names.map((n) => boundAt.get(n)! - sentAt.get(n)!).sort((a, b) => a - b);
  const seconds = (last - started) / 1000;
  return {
    cores: coresBusy(cpuBefore, cpuAfter, wall),
    podsPerSecond: count / seconds,
    createsPerSecond: count / ((createsDone - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    seconds,
  };
}

/** Writes the controller-manager's Lease (re-reading on conflict: its leader renews it every 250 ms). */
async function writeLeaderLease(client: KubeClient, spec: (old: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const { namespace, name } = CONTROLLER_MANAGER_LEASE;
  for (;;) {
    const lease = await client.get<KubeObject & { spec?: Record<string, unknown> }>(leases, namespace, name);
    try {
      await client.update(leases, namespace, { ...lease, spec: spec(lease.spec ?? {}) });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

/** Times the server's leader lost its Lease so far ('lost leadership' in its log). */
function leadershipLosses(server: SkiffProcess | undefined): number {
  return server ? server.output().split('lost leadership').length - 1 : 0;
}

interface BacklogRun {
  cores?: Run['cores'];
  /** Pods bound per second, from the Lease's release to the last binding. */
  podsPerSecond: number;
  /** Release → first pod bound (the new leader's start: campaign, informers' lists), seconds. */
  firstBound: number;
  seconds: number;
}

/** A new leader with PODS pending pods: the scheduler's throughput without creates competing. */
async function measureBacklog(client: KubeClient, server: SkiffProcess | undefined): Promise<BacklogRun> {
  const namespace = 'bench-backlog';
  await client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const owners = await createOwners(client, namespace);
  const lostBefore = leadershipLosses(server);
  // Depose the server's leader, as another candidate would: hold the Lease for an hour.
  await writeLeaderLease(client, (old) => ({ ...old, holderIdentity: 'skiff-bench', leaseDurationSeconds: 3600, acquireTime: kubeMicroTime(), renewTime: kubeMicroTime() }));
  if (server) await eventually(() => (leadershipLosses(server) > lostBefore ? true : undefined), 10_000, "the server's leader to step down");
  else await new Promise((r) => setTimeout(r, 3000));

  const boundAt = new Map<string, number>();
  const stop = new AbortController();
  const informer = await watchBindings(client, namespace, boundAt, stop.signal);
  const names = Array.from({ length: PODS }, (_, i) => `p-${i}`);
  let created = 0;
  await pool(names, CONCURRENCY, async (name) => {
    await client.create(pods, namespace, podManifest(name, owners[created++ % OWNERS]!));
  });
  if (boundAt.size > 0) throw new Error(`backlog: ${boundAt.size} pods were bound while the benchmark held the leader Lease`);

  const cpuBefore = await cpuNow(server?.child.pid);
  const released = performance.now();
  // Release it as client-go does on a clean stop: no holder, so the next poll takes it.
  await writeLeaderLease(client, (old) => ({ ...old, holderIdentity: '', leaseDurationSeconds: 1, renewTime: kubeMicroTime() }));
  const last = await waitForBound(boundAt, PODS, namespace, 600_000);
  const cpuAfter = await cpuNow(server?.child.pid);
  stop.abort();
  await informer.stopped();
  const wall = (performance.now() - released) / 1000;
  const seconds = (last - released) / 1000;
  return {
    cores: coresBusy(cpuBefore, cpuAfter, wall),
    podsPerSecond: PODS / seconds,
    firstBound: (Math.min(...boundAt.values()) - released) / 1000,
    seconds,
  };
}

function kubectl(kubeconfig: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

interface DeploymentRun {
  /** kubectl start → last pod bound, seconds. */
  applyToBound: number;
  /** kubectl's own run time (discovery, openapi, the POST), seconds. */
  kubectl: number;
  /** The benchmark creating and binding the same number of pods itself, seconds. */
  anchor: number;
}

/** `kubectl apply` of a Deployment to every replica bound, beside create + bind done by hand. */
async function measureDeployment(client: KubeClient, kubeconfig: string, dir: string): Promise<DeploymentRun> {
  const namespace = 'bench-deployment';
  await client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const manifest = join(dir, 'deployment.json');
  await writeFile(
    manifest,
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: DEPLOYMENT_REPLICAS,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        },
      },
    }),
  );
  // kubectl fetches discovery and the OpenAPI document once per cache directory; warm it as a
  // user's second apply would find it.
  await kubectl(kubeconfig, ['get', 'namespace', namespace]);
  const stop = new AbortController();
  const boundAt = new Map<string, number>();
  const informer = await watchBindings(client, namespace, boundAt, stop.signal);
  const started = performance.now();
  await kubectl(kubeconfig, ['apply', '-f', manifest]);
  const kubectlDone = performance.now();
  const last = await waitForBound(boundAt, DEPLOYMENT_REPLICAS, 'deployment', 120_000);

  const anchorNamespace = 'bench-deployment-anchor';
  await client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: anchorNamespace } });
  const anchorBound = new Map<string, number>();
  const anchorInformer = await watchBindings(client, anchorNamespace, anchorBound, stop.signal);
  const owner = { name: 'owner', uid: (await client.create<KubeObject>(configmaps, anchorNamespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } })).metadata!.uid! };
  const anchorStarted = performance.now();
  await pool(
    Array.from({ length: DEPLOYMENT_REPLICAS }, (_, i) => `p-${i}`),
    16,
    async (name) => {
      await client.create(pods, anchorNamespace, podManifest(name, owner, 'bench-direct'));
      await bind(client, anchorNamespace, name, 'hollow-0000');
    },
  );
  const anchorLast = await waitForBound(anchorBound, DEPLOYMENT_REPLICAS, 'anchor', 120_000);
  stop.abort();
  await Promise.all([informer.stopped(), anchorInformer.stopped()]);
  return { applyToBound: (last - started) / 1000, kubectl: (kubectlDone - started) / 1000, anchor: (anchorLast - anchorStarted) / 1000 };
}

async function spread(client: KubeClient, namespace: string): Promise<{ min: number; max: number; nodesUsed: number }> {
  const list = await client.listAll<PodLike>(pods, namespace);
  const perNode = new Map<string, number>();
  for (const p of list.items) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
  const counts = [...perNode.values()];
  return { min: NODES > perNode.size ? 0 : Math.min(...counts), max: Math.max(...counts), nodesUsed: perNode.size };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-scheduler-'));
  // SKIFF_KUBECONFIG: a fresh server started by hand (e.g. under `node --cpu-prof`), with
  // --cluster-cidr 10.0.0.0/8. Otherwise the benchmark starts its own.
  const external = process.env['SKIFF_KUBECONFIG'];
  // 10.42.0.0/16 (the default) holds 256 node subnets; 1,000 nodes need a larger cluster CIDR.
  const server = external ? undefined : await runSkiffServer(dir, ['--log-level', 'warn', '--cluster-cidr', '10.0.0.0/8']);
  const kubeconfig = external ?? join(dir, 'admin.kubeconfig');
  const connection = external ? await readKubeconfig(external) : { server: server!.url, token: server!.token, caPem: server!.caPem };
  const client = new KubeClient({ server: connection.server, token: connection.token, caPem: connection.caPem, requestTimeoutMs: 120_000 });
  let stopRenewing = () => {};
  try {
    const t0 = performance.now();
    await addNodes(client);
    stopRenewing = keepNodesAlive(client);
    // Let the controller-manager settle (nodeipam gives every node its CIDR) before measuring.
    while (RUNS.includes('scheduler') && (await client.listAll<KubeObject & { spec?: { podCIDR?: string } }>(nodes)).items.some((n) => !n.spec?.podCIDR)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`${NODES} hollow nodes registered and given pod CIDRs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // kube-scheduler's scheduler_perf measures on a cluster that already runs pods (initPods), and
    // so do we: a fresh server would otherwise also be timed compiling its hot paths (V8 optimises
    // a function only once it is hot), which a server in use has long done.
    if (INIT_PODS > 0 && ['scheduler', 'backlog', 'anchor'].some((r) => RUNS.includes(r))) {
      const init = await measure(client, 'bench-init', false, undefined, INIT_PODS);
      console.log(`${INIT_PODS} pods scheduled before measuring (as scheduler_perf's initPods), ${init.podsPerSecond.toFixed(0)} pods/s`);
    }

    /** Times the server's leader lost its Lease during each run (a renewal that missed its deadline). */
    const lostBy = new Map<string, number>();
    const run = async <T>(name: string, work: () => Promise<T>, deposedOnPurpose = 0): Promise<T | undefined> => {
      if (!RUNS.includes(name)) return undefined;
      const before = leadershipLosses(server);
      const result = await work();
      lostBy.set(name, leadershipLosses(server) - before - deposedOnPurpose);
      return result;
    };
    const metricsBefore = process.env['DEBUG_METRICS'] ? await client.request<string>('GET', '/metrics', { accept: 'text/plain' }) : '';
    const scheduled = await run('scheduler', () => measure(client, 'bench-scheduler', false, server?.child.pid));
    if (process.env['DEBUG_METRICS']) {
      const after = await client.request<string>('GET', '/metrics', { accept: 'text/plain' });
      const pick = (t: string) => new Map(t.split('\n').filter((l) => /^skiff_apiserver_(store_operation_duration_seconds_count|requests_total)/.test(l)).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
      const b = pick(metricsBefore);
      for (const [k, v] of pick(after)) if (v - (b.get(k) ?? 0) > 50) console.log(k, v - (b.get(k) ?? 0));
    }
    const placement = scheduled ? await spread(client, 'bench-scheduler') : undefined;
    const backlog = await run('backlog', () => measureBacklog(client, server), 1);
    const anchor = await run('anchor', () => measure(client, 'bench-anchor', true, server?.child.pid));
    const deployment = await run('deployment', () => measureDeployment(client, kubeconfig, dir));
    const rss = process.memoryUsage().rss;
    console.log(`\n${PODS} pods onto ${NODES} nodes, ${CONCURRENCY} concurrent creators\n`);
    console.log('run                         pods/s   creates/s   create→bound p50   p99      total');
    const row = (label: string, r: Run) =>
      console.log(
        `${label.padEnd(26)} ${r.podsPerSecond.toFixed(0).padStart(7)} ${r.createsPerSecond.toFixed(0).padStart(11)} ${r.p50.toFixed(0).padStart(15)} ms ${r.p99.toFixed(0).padStart(5)} ms ${r.seconds.toFixed(1).padStart(7)} s`,
      );
    if (scheduled) row('skiff scheduler', scheduled);
    if (anchor) row('anchor: bench binds itself', anchor);
    const cores = (label: string, r: { cores?: Run['cores'] }) => {
      if (!r.cores) return;
      const { apiServer, serverOther, benchmark } = r.cores;
      console.log(
        `${label}: cores busy ${(apiServer + serverOther + benchmark).toFixed(2)} of ${availableParallelism()} (API server thread ${apiServer.toFixed(2)}, ` +
          `server's other threads — controller-manager, scheduler, GC — ${serverOther.toFixed(2)}, benchmark ${benchmark.toFixed(2)})`,
      );
    };
    if (backlog) {
      console.log(
        `backlog: ${PODS} pods pending when the leader takes over: ${backlog.podsPerSecond.toFixed(0)} pods/s ` +
          `(${backlog.seconds.toFixed(1)} s from the Lease's release to the last binding; the first pod bound after ${backlog.firstBound.toFixed(2)} s)`,
      );
    }
    console.log('');
    if (scheduled) cores('skiff scheduler', scheduled);
    if (backlog) cores('backlog', backlog);
    if (anchor) cores('anchor', anchor);
    if (scheduled && anchor) console.log(`\nscheduler / anchor: ${((scheduled.podsPerSecond / anchor.podsPerSecond) * 100).toFixed(0)} %`);
    if (scheduled && placement) {
      console.log(`spread: ${placement.nodesUsed} nodes used, ${placement.min}..${placement.max} pods per node (ideal ${Math.floor(PODS / NODES)}..${Math.ceil(PODS / NODES)})`);
      console.log(`target >= 1000 pods/s: ${scheduled.podsPerSecond >= 1000 ? 'met' : 'NOT met'} (kube-scheduler CI threshold, 5,000 nodes: 680 pods/s)`);
    }
    if (deployment) {
      console.log(`\nkubectl apply of a ${DEPLOYMENT_REPLICAS}-replica Deployment → all pods bound: ${deployment.applyToBound.toFixed(2)} s (kubectl itself ${deployment.kubectl.toFixed(2)} s)`);
      console.log(`anchor: the benchmark creates and binds ${DEPLOYMENT_REPLICAS} pods itself, 16 at a time: ${deployment.anchor.toFixed(2)} s (ratio ${(deployment.applyToBound / deployment.anchor).toFixed(1)})`);
    }
    console.log(`benchmark process RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
    if (server) console.log(`leadership lost (a renewal missed its deadline): ${RUNS.map((r) => `${r} run ${lostBy.get(r) ?? 0}`).join(', ')}`);
  } finally {
    stopRenewing();
    await client.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
