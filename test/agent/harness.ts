// An agent under test: a real control plane, the Docker engine with the test images, and an
// agent (in this process, or as a child process) with a unique node name, its own pod CIDR
// and short timings. The node's podCIDR is set by the harness (the nodeipam controller does it
// in a full cluster). Everything the agent created is removed by `close()`.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/agent.js';
import type { AgentOptions } from '../../agent/config.js';
import type { TestCluster } from '../helpers/cluster.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestDocker } from '../helpers/docker.js';
import { acquireTestDocker, removeLabelled, TEST_LABEL } from '../helpers/docker.js';

export interface AgentHarness {
  cluster: TestCluster;
  docker: TestDocker;
  nodeName: string;
  podCidr: string;
  dataDir: string;
  tokenFile: string;
  caFile: string;
  /** The in-process agent (undefined while none runs). */
  agent: Agent | undefined;
  /** Options the agent runs with (for restarts). */
  agentOptions: AgentOptions;
  startAgent(overrides?: Partial<AgentOptions>): Promise<Agent>;
  stopAgent(): Promise<void>;
  /** Runs `skiff agent` as a child process (`node --import tsx cli/main.ts agent …`). */
  spawnAgent(extraArgs?: string[]): ChildProcess;
  createPod(pod: any, namespace?: string): Promise<any>;
  getPod(name: string, namespace?: string): Promise<any>;
  /** Polls the pod until `check` returns something other than undefined. */
  waitForPod<T>(name: string, check: (pod: any) => T | undefined, timeoutMs?: number, what?: string, namespace?: string): Promise<T>;
  /** Events about the pod, oldest first. */
  events(name: string, namespace?: string): Promise<any[]>;
  /**
   * Events about the pod once `check` accepts them. The agent writes events in the background, one
   * at a time, so the status a test waited for can land before the events recorded ahead of it.
   */
  waitForEvents(name: string, check: (events: any[]) => boolean, what: string, timeoutMs?: number, namespace?: string): Promise<any[]>;
  close(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A /24 for this test's node: unlikely to collide with another test process or Docker's own pools. */
function testPodCidr(): string {
  return `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 256)}.0/24`;
}

export const FAST_TIMINGS: Partial<AgentOptions> = {
  leaseRenewIntervalMs: 1000,
  nodeStatusUpdateIntervalMs: 1000,
  nodeStatusReportIntervalMs: 5000,
  relistIntervalMs: 2000,
  podResyncIntervalMs: 5000,
  crashLoopBackOff: { initialMs: 1000, maxMs: 8000 },
  imagePullBackOff: { initialMs: 1000, maxMs: 4000 },
};

export async function startAgentHarness(options: { agent?: Partial<AgentOptions>; startAgent?: boolean } = {}): Promise<AgentHarness> {
  const docker = await acquireTestDocker();
  const cluster = await startTestCluster();
  const nodeName = uniqueName('node');
  const podCidr = testPodCidr();
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-agent-'));
  const tokenFile = join(dataDir, 'node-token');
  const caFile = join(dataDir, 'ca.crt');
  await writeFile(tokenFile, cluster.controlPlane.nodeToken);
  await writeFile(caFile, cluster.controlPlane.caCertPem);
  const agentOptions: AgentOptions = {
    // The admin kubeconfig: these tests are about running pods, not about joining (bootstrap
    // and NodeRestriction have their own tests).
    kubeconfig: cluster.controlPlane.kubeconfigPath,
    nodeName,
    nodeIp: '127.0.0.1',
    dataDir: join(dataDir, 'agent'),
    podInfraImage: docker.pauseImage,
    dockerLabels: { [TEST_LABEL]: '1' },
    logger: pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' }),
    ...FAST_TIMINGS,
    ...options.agent,
  };
  const children: ChildProcess[] = [];
  let podCidrSet = false;

  const setPodCidr = async () => {
    if (podCidrSet) return;
    await eventually(async () => {
      const res = await cluster.api('PATCH', `/api/v1/nodes/${nodeName}`, {
        body: { spec: { podCIDR: podCidr, podCIDRs: [podCidr] } },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      return res.status === 200 ? true : undefined;
    }, 20_000, `node ${nodeName} to register`);
    podCidrSet = true;
  };

  const harness: AgentHarness = {
    cluster,
    docker,
    nodeName,
    podCidr,
    dataDir,
    tokenFile,
    caFile,
    agent: undefined,
    agentOptions,
    async startAgent(overrides = {}) {
      const agent = await startAgent({ ...agentOptions, ...overrides });
      harness.agent = agent;
      await setPodCidr();
      await agent.ready;
      return agent;
    },
    async stopAgent() {
      await harness.agent?.close();
      harness.agent = undefined;
    },
    spawnAgent(extraArgs = []) {
      // From TypeScript sources (tsx) run cli/main.ts; from the build, dist/cli/main.js.
      const fromSources = import.meta.url.endsWith('.ts');
      const root = new URL(fromSources ? '../..' : '../../..', import.meta.url).pathname;
      const entry = fromSources ? ['--import', 'tsx', 'cli/main.ts'] : ['dist/cli/main.js'];
      const args = [
        ...entry,
        'agent',
        `--kubeconfig=${cluster.controlPlane.kubeconfigPath}`,
        `--node-name=${nodeName}`,
        '--node-ip=127.0.0.1',
        `--data-dir=${agentOptions.dataDir}`,
        `--pod-infra-image=${docker.pauseImage}`,
        '--node-status-update-frequency=1',
        '--crash-loop-backoff-base=1',
        // A free port for the agent's endpoint: several agents may run at once in tests.
        '--agent-port=0',
        '--log-level=warn',
        ...extraArgs,
      ];
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
      children.push(child);
      void setPodCidr().catch(() => undefined);
      return child;
    },
    async createPod(pod, namespace = 'default') {
      const res = await cluster.api('POST', `/api/v1/namespaces/${namespace}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', ...pod } });
      if (res.status !== 201) throw new Error(`create pod: ${res.status} ${res.text}`);
      return res.body;
    },
    async getPod(name, namespace = 'default') {
      const res = await cluster.api('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
      return res.status === 200 ? res.body : undefined;
    },
    async waitForPod(name, check, timeoutMs = 30_000, what = 'pod condition', namespace = 'default') {
      let last: any;
      try {
        return await eventually(async () => {
          last = await harness.getPod(name, namespace);
          return last ? check(last) : undefined;
        }, timeoutMs, `${name}: ${what}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
      }
    },
    async events(name, namespace = 'default') {
      const res = await cluster.api('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=involvedObject.name=${name}`);
      const items: any[] = res.body?.items ?? [];
      return items.sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)));
    },
    async waitForEvents(name, check, what, timeoutMs = 10_000, namespace = 'default') {
      let last: any[] = [];
      try {
        return await eventually(async () => {
          last = await harness.events(name, namespace);
          return check(last) ? last : undefined;
        }, timeoutMs, `${name}: ${what}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nevents: ${last.map((e) => `${e.reason}: ${e.message}`).join('\n        ')}`);
      }
    },
    async close() {
      await harness.stopAgent().catch(() => undefined);
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
        }
      }
      await removeLabelled(docker.docker, `skiff.node=${nodeName}`);
      await cluster.close();
      await rm(dataDir, { recursive: true, force: true });
      await docker.release();
    },
  };
  if (options.startAgent !== false) {
    try {
      await harness.startAgent();
    } catch (err) {
      await harness.close();
      throw err;
    }
  }
  return harness;
}

/** A container spec running busybox with `sh -c script`. */
export function shell(name: string, image: string, script: string, extra: Record<string, unknown> = {}): any {
  return { name, image, imagePullPolicy: 'Never', command: ['sh', '-c', script], ...extra };
}

export function containerStatus(pod: any, name: string): any {
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s: any) => s.name === name);
}

export function condition(pod: any, type: string): string | undefined {
  return pod.status?.conditions?.find((c: any) => c.type === type)?.status;
}

/** PIDs of `parentPid`'s children that run the port-forward helper (agent/runtime/netns-connect.ts). */
export async function netnsHelpers(parentPid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parentPid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('netns-connect')) found.push(Number(name));
  }
  return found;
}
