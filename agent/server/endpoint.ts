// Starts the HTTPS endpoint of a running agent (server.ts) with the credentials it joined with:
// the cluster CA and the serving certificate kept in its data directory (bootstrap/), or, for an
// agent run with a kubeconfig, that kubeconfig's CA and a serving certificate asked for with its
// credentials. `skiff agent` and `skiff up` call this after startAgent. The endpoint is apart from
// startAgent so that in-process agents in tests run without one (and without fighting over 10250).

import { readKubeconfig } from '../../api/kubeconfig.js';
import type { Agent } from '../agent.js';
import { credentialPaths, readIfExists, readNodeCredential } from '../bootstrap/files.js';
import { ensureServingCertificate } from '../bootstrap/join.js';
import type { AgentServer } from './server.js';
import { startAgentServer } from './server.js';

export interface AgentEndpointOptions {
  /** Default: the port the agent publishes in its Node status (config.kubeletPort). */
  port?: number;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  anonymousMetrics?: boolean;
  usageSampleIntervalMs?: number;
}

async function endpointCredentials(config: Agent['config']): Promise<{ server: string; caCertPem: string; bearerToken: string }> {
  if (config.kubeconfig) {
    const connection = await readKubeconfig(config.kubeconfig);
    if (!connection.caPem || !connection.token) throw new Error(`${config.kubeconfig} needs a CA and a bearer token for the agent's endpoint`);
    return { server: config.server ?? connection.server, caCertPem: connection.caPem, bearerToken: connection.token };
  }
  const paths = credentialPaths(config.dataDir);
  const caCertPem = await readIfExists(paths.ca);
  const stored = await readNodeCredential(paths);
  if (!caCertPem || !stored || !config.server) throw new Error(`the agent has not joined the cluster yet (no credentials in ${paths.dir})`);
  return { server: config.server, caCertPem, bearerToken: stored.token };
}

export async function startAgentEndpoint(agent: Pick<Agent, 'config' | 'logs' | 'streams' | 'usage' | 'registry'>, options: AgentEndpointOptions = {}): Promise<AgentServer> {
  const { config } = agent;
  const credentials = await endpointCredentials(config);
  const serving = await ensureServingCertificate({ ...credentials, nodeName: config.nodeName, nodeIp: config.nodeIp, dataDir: config.dataDir, logger: config.logger });
  const server = await startAgentServer({
    nodeName: config.nodeName,
    bindAddress: options.bindAddress,
    port: options.port ?? config.kubeletPort,
    caCertPem: credentials.caCertPem,
    serving,
    logs: agent.logs,
    streams: agent.streams,
    usage: agent.usage,
    metricsRegistry: agent.registry,
    filesystemPath: config.dataDir,
    anonymousMetrics: options.anonymousMetrics,
    usageSampleIntervalMs: options.usageSampleIntervalMs,
    logger: config.logger?.child({ component: 'agent-endpoint' }),
  });
  // With port 0 (tests) the endpoint took a free port: the Node status must publish that one
  // (the status reporter reads config.kubeletPort each time it writes).
  if (server.port !== config.kubeletPort) config.kubeletPort = server.port;
  return server;
}
