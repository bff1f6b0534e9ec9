// How fast does the agent start pods, and what does it cost at rest? Run with
// `npm run build && node dist/bench/agent.js` (or `npx tsx bench/agent.ts`; the agent itself
// always runs compiled, from dist/, when the build exists, so its memory is not tsx's). The agent
// runs as systemd/skiff-agent.service runs it, with the environment that unit sets.
//
//   1. Pod start latency: 30 pods created at once (image present, no probes), from the create
//      request to the pod's Ready condition as a watch delivers it. p50 / p99 / max.
//      Anchor in the same run: the Docker floor, 30 pods' worth of containers (a sandbox plus an
//      app container joining its network) created and started directly through dockerode, at once.
//      Also one pod at a time (5 pods), where Docker does not queue. And Docker's least: 30
//      single containers on the host network at once (no sandbox, no network namespace), below
//      which no pod of any shape starts here.
//   2. At rest with 50 pods: the agent process's RSS (and its private part) and CPU (% of one core) over 60 s with
//      default timings (lease every 10 s, node status every 10 s, relist every 10 s, pod resync
//      every 60 s). The Docker daemon's CPU over the same window is printed alongside.
// Targets (issue 3): p99 ≤ 1.5 s, RSS ≤ 80 MB, idle CPU ≤ 2 % of a core. k3s's published agent
// profile (kubelet + k3s agent) is 275 MB and 3 % of a core.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { KubeClient } from '../api/client.js';
import { resourceFor } from '../api/resources.js';
import { startControlPlane } from '../controlplane/controlplane.js';
import { anonymousBytes, cpuSeconds, pidsOf, rssBytes } from './proc.js';
import { acquireTestDocker, removeLabelled, TEST_LABEL } from '../test/helpers/docker.js';
import { readUnit, unitEnvironment } from '../test/helpers/systemd-unit.js';

const BURST = 30;
const SINGLES = 5;
const IDLE_PODS = 50;
/** IDLE_SECONDS=600 watches the agent at rest longer (a soak: does its memory keep growing?). */
const IDLE_WINDOW_MS = Number(process.env['IDLE_SECONDS'] ?? 60) * 1000;
const pods = resourceFor('', 'pods');

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${(percentile(s, 50) / 1000).toFixed(3)} s   p99 ${(percentile(s, 99) / 1000).toFixed(3)} s   max ${(s.at(-1)! / 1000).toFixed(3)} s`;
}

let benchmarkDone = false;
const root = new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url).pathname;
const docker = await acquireTestDocker();
const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-agent-'));
const nodeName = 'bench-node';
const controlPlane = await startControlPlane({
  dataDir: join(dir, 'server'),
  bindAddress: '127.0.0.1',
  port: 0,
  serviceCidr: '10.43.0.0/16',
  nodePortRange: '30000-32767',
  logger: pino({ level: 'warn' }),
});
const admin = new KubeClient({ server: controlPlane.url, token: controlPlane.adminToken, caPem: controlPlane.caCertPem });
// The agent joins with the node token, as on a real host (not with the admin's kubeconfig).
const tokenFile = join(dir, 'node-token');
await writeFile(tokenFile, controlPlane.nodeToken);
const compiled = join(root, 'dist/cli/main.js');
const entry = existsSync(compiled) ? [compiled] : ['--import', 'tsx', join(root, 'cli/main.ts')];
// As systemd/skiff-agent.service runs it: with the environment the unit sets (its V8 and malloc
// settings). AGENT_NODE_FLAGS adds node flags, to try one out.
const unitEnv = unitEnvironment(await readUnit('skiff-agent.service'));
const agent = spawn(
  process.execPath,
  [
    ...(process.env['AGENT_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []),
    ...entry,
    'agent',
    `--server=${controlPlane.url}`,
    `--token-file=${tokenFile}`,
    `--node-name=${nodeName}`,
    '--node-ip=127.0.0.1',
    `--data-dir=${join(dir, 'agent')}`,
    `--pod-infra-image=${docker.pauseImage}`,
    '--agent-port=0',
    '--log-level=warn',
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...unitEnv } },
);
const agentPid = agent.pid!;
// An agent that cannot start (bad flag, no Docker) would otherwise leave the benchmark waiting.
agent.once('exit', (code, signal) => {
  if (!benchmarkDone) {
    console.error(`the agent exited early (code ${code}, signal ${signal})`);
    process.exit(1);
  }
});

function podManifest(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { bench: 'agent' } },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: docker.busyboxImage, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
  };
}

/** Creates pods at once; resolves with each pod's create → Ready time (ms). */
async function createAndWaitReady(names: string[]): Promise<number[]> {
  const abort = new AbortController();
  const created = new Map<string, number>();
  const ready = new Map<string, number>();
  let done: () => void = () => {};
  const allReady = new Promise<void>((resolve) => (done = resolve));
  const list = await admin.list(pods, 'default');
  void (async () => {
    try {
      for await (const event of admin.watch(pods, 'default', { resourceVersion: list.metadata.resourceVersion, labelSelector: 'bench=agent', signal: abort.signal })) {
        if (event.type !== 'MODIFIED' && event.type !== 'ADDED') continue;
        const obj = event.object as { metadata?: { name?: string }; status?: { conditions?: { type: string; status: string }[] } };
        const name = obj.metadata?.name ?? '';
        if (!created.has(name) || ready.has(name)) continue;
        if (obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
          ready.set(name, performance.now());
          if (ready.size === names.length) done();
        }
      }
    } catch {
      // aborted
    }
  })();
  await Promise.all(
    names.map(async (name) => {
      created.set(name, performance.now());
      await admin.create(pods, 'default', podManifest(name));
    }),
  );
  const timeout = setTimeout(done, 120_000);
  await allReady;
  clearTimeout(timeout);
  abort.abort();
  if (ready.size < names.length) throw new Error(`only ${ready.size} of ${names.length} pods became Ready`);
  return names.map((n) => ready.get(n)! - created.get(n)!);
}

/**
 * The anchor: the same containers started directly through Docker. `bare` starts the least a pod
 * could be, one container per pod on the host's network (no sandbox, no network namespace):
 * what Docker takes here for `count` containers at all.
 */
async function dockerFloor(count: number, shape: 'pod' | 'bare' = 'pod'): Promise<number[]> {
  const d = docker.docker;
  const labels = { [TEST_LABEL]: '1', 'skiff.bench': 'floor' };
  const network = await d.createNetwork({ Name: `skiff-bench-floor-${process.pid}`, Driver: 'bridge', Labels: labels, IPAM: { Config: [{ Subnet: '10.249.250.0/24' }] } });
  try {
    return await Promise.all(
      Array.from({ length: count }, async () => {
        const began = performance.now();
        if (shape === 'bare') {
          const only = await d.createContainer({ Image: docker.busyboxImage, Cmd: ['sleep', '3600'], Labels: labels, HostConfig: { NetworkMode: 'host' } });
          await only.start();
          return performance.now() - began;
        }
        const sandbox = await d.createContainer({ Image: docker.pauseImage, Labels: labels, HostConfig: { NetworkMode: network.id, IpcMode: 'shareable' } });
        await sandbox.start();
        const app = await d.createContainer({
          Image: docker.busyboxImage,
          Cmd: ['sleep', '3600'],
          Labels: labels,
          HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
        });
        await app.start();
        return performance.now() - began;
      }),
    );
  } finally {
    await removeLabelled(d, 'skiff.bench=floor');
  }
}

try {
  // The node registers; give it its pod CIDR (the nodeipam controller's job in a full cluster).
  for (let i = 0; ; i++) {
    try {
      await admin.patch(resourceFor('', 'nodes'), undefined, nodeName, { spec: { podCIDR: '10.248.0.0/24' } });
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // Warm-up: one pod through the whole path (network creation, first image inspect).
  await createAndWaitReady(['warmup']);

  // One pod at a time: the agent's own path when Docker is not queueing.
  const single: number[] = [];
  const singleFloor: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    single.push(...(await createAndWaitReady([`single-${i}`])));
    singleFloor.push(...(await dockerFloor(1)));
  }
  console.log(`pod start latency, one pod at a time (${SINGLES} pods, create → Ready):`);
  console.log(`  skiff agent   ${summary(single)}`);
  console.log(`  docker floor  ${summary(singleFloor)}   (sandbox + app container, started directly)`);

  const floor = await dockerFloor(BURST);
  const bareFloor = await dockerFloor(BURST, 'bare');
  const burstCpu0 = await cpuSeconds(agentPid);
  const latencies = await createAndWaitReady(Array.from({ length: BURST }, (_, i) => `burst-${i}`));
  const burstCpu = (await cpuSeconds(agentPid)) - burstCpu0;
  console.log(`pod start latency, ${BURST} pods created at once (create → Ready):`);
  console.log(`  skiff agent   ${summary(latencies)}   (agent CPU for the burst: ${burstCpu.toFixed(2)} s)`);
  console.log(`  docker floor  ${summary(floor)}   (sandbox + app container per pod, started directly)`);
  console.log(`  docker least  ${summary(bareFloor)}   (one container per pod on the host network: no sandbox, no network namespace)`);

  await createAndWaitReady(Array.from({ length: IDLE_PODS - BURST - 1 - SINGLES }, (_, i) => `idle-${i}`));
  // Let start-up work settle (event writes, first probes, status writes) before measuring rest.
  await new Promise((r) => setTimeout(r, 15_000));
  const dockerd = await pidsOf('dockerd');
  const dockerdCpu = async () => (await Promise.all(dockerd.map((pid) => cpuSeconds(pid)))).reduce((a, b) => a + b, 0);
  const cpu0 = await cpuSeconds(agentPid);
  const dockerCpu0 = await dockerdCpu();
  const t0 = performance.now();
  let peakRss = 0;
  while (performance.now() - t0 < IDLE_WINDOW_MS) {
    peakRss = Math.max(peakRss, await rssBytes(agentPid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(agentPid)) - cpu0;
  const dockerCpu = (await dockerdCpu()) - dockerCpu0;
  console.log(`at rest with ${IDLE_PODS} pods, ${elapsedS.toFixed(0)} s window:`);
  console.log(`  agent RSS      ${(peakRss / 1024 / 1024).toFixed(1)} MB (peak; now ${((await rssBytes(agentPid)) / 1024 / 1024).toFixed(1)} MB)`);
  console.log(`  agent private  ${((await anonymousBytes(agentPid)) / 1024 / 1024).toFixed(1)} MB (anonymous memory: RSS less the node binary's shared code)`);
  console.log(`  agent CPU      ${((cpu / elapsedS) * 100).toFixed(2)} % of one core`);
  console.log(`  dockerd CPU    ${((dockerCpu / elapsedS) * 100).toFixed(2)} % of one core (the runtime itself, for scale)`);
} finally {
  benchmarkDone = true;
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await removeLabelled(docker.docker, `skiff.node=${nodeName}`);
  await admin.close();
  await controlPlane.close();
  await rm(dir, { recursive: true, force: true });
  await docker.release();
}
