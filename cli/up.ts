// `skiff up`: a whole single-host cluster in one process, as `k3s server` is by default: the
// control plane (API server, scheduler, controllers) with its data in DIR, and an agent for this
// host with its data in DIR/agent. The agent joins the in-process server exactly as a remote
// agent would (over loopback HTTPS with the join token in DIR/node-token), so `skiff up` and
// `skiff server` + `skiff agent` run the same code. `skiff kubeconfig --data-dir DIR` prints the
// admin kubeconfig; `skiff token --data-dir DIR` the token for more agents.

import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { pino } from 'pino';
import { startAgent } from '../agent/agent.js';
import { AGENT_DEFAULTS } from '../agent/config.js';
import { startAgentEndpoint } from '../agent/server/endpoint.js';
import { clusterDnsIp, parseCidr } from '../controlplane/apiserver/allocator.js';
import { DEFAULT_CONTROL_PLANE, startControlPlane } from '../controlplane/controlplane.js';
import type { ControlPlaneConfig } from '../controlplane/controlplane.js';
import { port, runUntilSignal } from './run.js';
import { clusterFlags, serverConfig } from './server.js';
import type { ServerFlags } from './server.js';

/** `skiff up`'s flags as commander parses them: the server's cluster flags and the agent's. */
export interface UpFlags extends Omit<ServerFlags, 'advertiseAddress' | 'disableControllerManager'> {
  dockerHost: string;
  podInfraImage: string;
  nodeName?: string;
  nodeIp?: string;
  agentPort: number;
}

function listensOnAll(bindAddress: string): boolean {
  return bindAddress === '0.0.0.0' || bindAddress === '::';
}

/**
 * The control plane `skiff up` runs: as `skiff server` with the same flags would, advertised at
 * the node's address when it listens on all (pods reach the API, the `kubernetes` Service, there).
 */
export function upControlPlaneConfig(flags: UpFlags, nodeIp: string): ControlPlaneConfig {
  return serverConfig({ ...flags, advertiseAddress: listensOnAll(flags.bindAddress) ? nodeIp : flags.bindAddress });
}

/** The nameserver `skiff up`'s agent gives ClusterFirst pods: the cluster DNS address of its service range. */
export function upClusterDns(flags: UpFlags): string[] {
  return [clusterDnsIp(parseCidr(flags.serviceCidr))];
}

/** The IPv4 address of the interface holding the default route (else the first non-loopback one). */
export async function primaryIPv4(): Promise<string> {
  const interfaces = networkInterfaces();
  const ipv4Of = (name: string) => interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  // /proc/net/route: Iface, Destination (hex, 00000000 = default), ..., Metric in column 7.
  const routes = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const defaults = routes
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1] === '00000000' && cols[0])
    .sort((a, b) => Number(a[6] ?? 0) - Number(b[6] ?? 0));
  for (const cols of defaults) {
    const address = ipv4Of(cols[0]!);
    if (address) return address;
  }
  for (const name of Object.keys(interfaces)) {
    const address = ipv4Of(name);
    if (address) return address;
  }
  return '127.0.0.1';
}

export function upCommand(program: Command): void {
  const command = program
    .command('up')
    .description('Run a single-host cluster: the server and an agent for this host, in one process.')
    .requiredOption('--data-dir <dir>', 'the server data (store, certificates, tokens, admin kubeconfig); the agent uses <dir>/agent')
    .option('--docker-host <url>', 'Docker engine: unix:///path or tcp://host:port', 'unix:///var/run/docker.sock')
    .option('--pod-infra-image <image>', 'the pod sandbox ("pause") image', AGENT_DEFAULTS.podInfraImage)
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--node-ip <ip>', "this node's address (default: the host's primary IPv4 address)")
    .option('--bind-address <addr>', 'address the API server listens on', DEFAULT_CONTROL_PLANE.bindAddress)
    .option('--port <n>', 'HTTPS port of the API', port, DEFAULT_CONTROL_PLANE.port)
    .option('--agent-port <n>', "port of the agent's HTTPS endpoint (logs, usage, metrics)", port, AGENT_DEFAULTS.kubeletPort);
  clusterFlags(command)
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(
      async (opts: UpFlags) => {
        const logger = pino({ name: 'skiff', level: opts.logLevel });
        const dataDir = resolve(opts.dataDir);
        const nodeIp = opts.nodeIp ?? (await primaryIPv4());
        // Kubernetes node names are lower-case DNS names; k3s lower-cases the host name too.
        const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
        const config = upControlPlaneConfig(opts, nodeIp);
        const clusterDns = upClusterDns(opts);
        await runUntilSignal(async () => {
          const controlPlane = await startControlPlane({ ...config, logger: logger.child({ component: 'server' }) });
          const stops: (() => Promise<void>)[] = [() => controlPlane.close()];
          const stopAll = async () => {
            for (const stop of stops.reverse()) await stop();
          };
          try {
            const loopback = listensOnAll(opts.bindAddress) ? '127.0.0.1' : opts.bindAddress;
            const agent = await startAgent({
              server: `https://${loopback.includes(':') ? `[${loopback}]` : loopback}:${controlPlane.apiServer.port}`,
              tokenFile: join(dataDir, 'node-token'),
              nodeName,
              nodeIp,
              dataDir: join(dataDir, 'agent'),
              dockerHost: opts.dockerHost,
              podInfraImage: opts.podInfraImage,
              kubeletPort: opts.agentPort,
              clusterDns,
              logger: logger.child({ component: 'agent' }),
            });
            stops.push(() => agent.close());
            const endpoint = await startAgentEndpoint(agent);
            stops.push(() => endpoint.close());
          } catch (err) {
            await stopAll();
            throw err;
          }
          logger.info({ nodeName, nodeIp, kubeconfig: controlPlane.kubeconfigPath }, 'Skiff is up');
          return { close: stopAll };
        });
      },
    );
}
