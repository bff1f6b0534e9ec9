// An in-process agent that joined a test cluster with the node token (so it runs as
// system:node:<name>), with its HTTPS endpoint (logs, exec, usage every second) on a free
// loopback port, on the test Docker engine, with short timings. Ready when the node has
// registered and published the endpoint's port.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Agent } from '../../agent/agent.js';
import type { AgentOptions } from '../../agent/config.js';
import { startAgent } from '../../agent/agent.js';
import { startAgentEndpoint } from '../../agent/server/endpoint.js';
import type { AgentServer } from '../../agent/server/server.js';
import type { TestCluster } from './cluster.js';
import { eventually } from './cluster.js';
import type { TestDocker } from './docker.js';
import { removeLabelled, TEST_LABEL } from './docker.js';

export interface JoinedAgent {
  agent: Agent;
  endpoint: AgentServer;
  /** Stops the endpoint and the agent, removes the node's containers and the data directory. */
  close(): Promise<void>;
}

export async function startJoinedAgent(
  cluster: TestCluster,
  docker: TestDocker,
  nodeName: string,
  options: {
    agent?: Partial<AgentOptions>;
    /** Set the node's pod CIDR (when no nodeipam controller runs to assign one). */
    podCidr?: string;
  } = {},
): Promise<JoinedAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-joined-agent-'));
  const tokenFile = join(dir, 'node-token');
  await writeFile(tokenFile, cluster.controlPlane.nodeToken);
  const agent = await startAgent({
    server: cluster.url,
    tokenFile,
    nodeName,
    nodeIp: '127.0.0.1',
    dataDir: join(dir, 'agent'),
    dockerHost: `unix://${docker.socketPath}`,
    podInfraImage: docker.pauseImage,
    dockerLabels: { [TEST_LABEL]: '1' },
    kubeletPort: 0,
    leaseRenewIntervalMs: 1000,
    nodeStatusUpdateIntervalMs: 1000,
    relistIntervalMs: 2000,
    logger: pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' }),
    ...options.agent,
  });
  const endpoint = await startAgentEndpoint(agent, { bindAddress: '127.0.0.1', usageSampleIntervalMs: 1000 });
  const close = async () => {
    await endpoint.close();
    await agent.close();
    await removeLabelled(docker.docker, `skiff.node=${nodeName}`);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { podCidr } = options;
    if (podCidr) {
      await eventually(async () => {
        const res = await cluster.api('PATCH', `/api/v1/nodes/${nodeName}`, {
          body: { spec: { podCIDR: podCidr, podCIDRs: [podCidr] } },
          headers: { 'content-type': 'application/merge-patch+json' },
        });
        return res.status === 200 ? true : undefined;
      }, 30_000, 'the node to register');
    }
    await agent.ready;
    await eventually(async () => {
      const node = (await cluster.api('GET', `/api/v1/nodes/${nodeName}`)).body;
      return node.status?.daemonEndpoints?.kubeletEndpoint?.Port === endpoint.port ? true : undefined;
    }, 20_000, 'the node to publish its endpoint port');
  } catch (err) {
    await close();
    throw err;
  }
  return { agent, endpoint, close };
}
