// A cluster of several nodes on one machine, as a user would assemble it: a control plane with
// the scheduler and controllers (short node-lifecycle timings), and N `skiff agent` processes
// that join with the node token, all on the one Docker engine. Each agent has its own node name,
// node IP on loopback (127.0.0.2, 127.0.0.3, ...), data directory and pod CIDR (from the
// cluster CIDR, assigned by the nodeipam controller). Agents are child processes, so a test can
// `kill -9` one. `close()` stops everything and removes every container and network the agents
// made, whatever state they were left in.

import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubectlResult, TestCluster } from './cluster.js';
import { eventually, startTestCluster } from './cluster.js';
import type { TestDocker } from './docker.js';
import { acquireTestDocker, removeLabelled } from './docker.js';
import { buildImageVariant, removeImages } from './images.js';
import type { SkiffProcess } from './skiff-process.js';
import { runSkiff } from './skiff-process.js';

export interface ClusterAgent {
  nodeName: string;
  nodeIp: string;
  dataDir: string;
  process: SkiffProcess;
  /** SIGKILL: the agent dies without a word; its containers keep running. */
  kill9(): Promise<void>;
}

export interface MultiNodeOptions {
  agents: number;
  /** --node-monitor-grace-period (default here 5 s). */
  nodeMonitorGracePeriodMs?: number;
  /** --default-unreachable-toleration-seconds and --default-not-ready-toleration-seconds (default here 3). */
  tolerationSeconds?: number;
}

export interface MultiNodeCluster {
  cluster: TestCluster;
  docker: TestDocker;
  agents: ClusterAgent[];
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Starts one more agent and waits until its node is Ready with a pod CIDR. */
  addAgent(): Promise<ClusterAgent>;
  /** Builds an image FROM the test busybox with `files` added (see images.ts); removed by `close()`. */
  buildImage(ref: string, files: Record<string, string>): Promise<string>;
  /** Removes the containers and the pod network of `nodeName` from Docker. */
  removeNodeContainers(nodeName: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A /20 (16 node /24s) for this cluster's pod CIDRs, drawn from 10.150.0.0–10.199.255.255: apart
 * from the agent tests' CIDRs (10.200+), `skiff up`'s default (10.42) and Docker's own pools, and
 * unlikely to meet another test process's cluster (their Docker networks would overlap).
 */
export function testClusterCidr(): string {
  const n = randomInt(50 * 16);
  return `10.${150 + Math.floor(n / 16)}.${(n % 16) * 16}.0/20`;
}

export async function startMultiNodeCluster(options: MultiNodeOptions): Promise<MultiNodeCluster> {
  const docker = await acquireTestDocker();
  const tolerationSeconds = options.tolerationSeconds ?? 3;
  const cluster = await startTestCluster({
    controllerManager: {
      controllers: {
        clusterCidr: testClusterCidr(),
        nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs ?? 5000,
        nodeMonitorPeriodMs: 500,
      },
    },
    defaultTolerationSeconds: { notReady: tolerationSeconds, unreachable: tolerationSeconds },
  });
  const runId = randomBytes(3).toString('hex');
  const agentsDir = await mkdtemp(join(tmpdir(), 'skiff-nodes-'));
  const agents: ClusterAgent[] = [];

  const nodeReady = async (agent: ClusterAgent) => {
    await eventually(
      async () => {
        if (agent.process.child.exitCode !== null) throw new Error(`agent ${agent.nodeName} exited: ${agent.process.output()}`);
        const res = await cluster.api('GET', `/api/v1/nodes/${agent.nodeName}`);
        const ready = res.body?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status;
        return res.status === 200 && ready === 'True' && res.body.spec?.podCIDR ? true : undefined;
      },
      60_000,
      `node ${agent.nodeName} to be Ready`,
    );
  };

  const addAgent = async (): Promise<ClusterAgent> => {
    const index = agents.length;
    const nodeName = `node-${runId}-${index + 1}`;
    const nodeIp = `127.0.0.${index + 2}`;
    const dataDir = join(agentsDir, nodeName);
    const child = runSkiff([
      'agent',
      '--server', cluster.url,
      '--token-file', join(cluster.dataDir, 'node-token'),
      '--node-name', nodeName,
      '--node-ip', nodeIp,
      '--data-dir', dataDir,
      '--docker-host', `unix://${docker.socketPath}`,
      '--pod-infra-image', docker.pauseImage,
      '--agent-port', '0',
      // A Lease renewed every 0.5 s, well inside the short grace period.
      '--node-lease-duration-seconds', '2',
      '--node-status-update-frequency', '1',
      '--crash-loop-backoff-base', '1',
      '--log-level', process.env['SKIFF_TEST_LOG'] ?? 'warn',
    ]);
    const agent: ClusterAgent = { nodeName, nodeIp, dataDir, process: child, kill9: () => child.kill9() };
    agents.push(agent);
    await nodeReady(agent);
    return agent;
  };

  const builtImages: string[] = [];
  const buildImage = async (ref: string, files: Record<string, string>) => {
    builtImages.push(ref);
    return buildImageVariant(docker.docker, docker.busyboxImage, ref, files);
  };

  const removeNodeContainers = (nodeName: string) => removeLabelled(docker.docker, `skiff.node=${nodeName}`);

  // If this test process dies without closing, its agents must not outlive it.
  const killAgents = () => {
    for (const a of agents) if (a.process.child.exitCode === null && a.process.child.signalCode === null) a.process.child.kill('SIGKILL');
  };
  process.once('exit', killAgents);

  const close = async () => {
    process.off('exit', killAgents);
    await Promise.all(agents.map((a) => a.process.stop()));
    for (const agent of agents) await removeNodeContainers(agent.nodeName);
    await removeImages(docker.docker, builtImages);
    await cluster.close();
    await rm(agentsDir, { recursive: true, force: true });
    await docker.release();
  };

  try {
    await cluster.controlPlane.controllerManager?.whenLeading();
    // One after another: several tsx start-ups at once on a small machine only slow each other.
    for (let i = 0; i < options.agents; i++) await addAgent();
  } catch (err) {
    await close();
    throw err;
  }
  return { cluster, docker, agents, kubectl: cluster.kubectl, addAgent, buildImage, removeNodeContainers, close };
}
