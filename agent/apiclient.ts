// The agent's one way to the API server: every other agent module receives the KubeClient made
// here. With `--server` and `--token-file` the agent joins the cluster (bootstrap/join.ts): it
// pins the cluster CA by the token's hash, trades the join token for its own node identity
// (`system:node:<name>`, held to its own Node, Lease and pods) and keeps those credentials in its
// data directory. `--ca-file`, when given, must name the same CA. With `--kubeconfig` it uses
// that kubeconfig's server, CA and credentials as they are.

import { readFile } from 'node:fs/promises';
import { KubeClient } from '../api/client.js';
import { readKubeconfig } from '../api/kubeconfig.js';
import { joinCluster } from './bootstrap/join.js';
import { certificateHash } from './bootstrap/token.js';
import type { AgentConfig, ApiConnectionConfig } from './config.js';

const USER_AGENT = 'skiff-agent/0.1.0';

export type ConnectionConfig = ApiConnectionConfig & Pick<AgentConfig, 'nodeName' | 'nodeIp' | 'dataDir' | 'logger'>;

export async function connectToApiServer(config: ConnectionConfig): Promise<KubeClient> {
  if (config.kubeconfig) {
    const connection = await readKubeconfig(config.kubeconfig);
    if (config.server) connection.server = config.server;
    return KubeClient.fromConnection(connection, USER_AGENT);
  }
  if (!config.server) throw new Error('the agent needs --server (or --kubeconfig)');
  if (!config.tokenFile) throw new Error('the agent needs --token-file (or --kubeconfig)');
  const token = (await readFile(config.tokenFile, 'utf8')).trim();
  if (!token) throw new Error(`${config.tokenFile} is empty`);
  const credentials = await joinCluster({
    server: config.server,
    token,
    nodeName: config.nodeName,
    nodeIp: config.nodeIp,
    dataDir: config.dataDir,
    logger: config.logger,
  });
  if (config.caFile && certificateHash(await readFile(config.caFile, 'utf8')) !== certificateHash(credentials.caCertPem)) {
    throw new Error(`the CA in ${config.caFile} is not the cluster CA that ${config.server} serves and the join token pins`);
  }
  return new KubeClient({ server: config.server, token: credentials.token, caPem: credentials.caCertPem, userAgent: USER_AGENT, requestTimeoutMs: 15_000 });
}
