// `skiff agent`: flags → AgentConfig → startAgent, until SIGINT/SIGTERM. Stopping the agent
// leaves its pods running (as stopping the kubelet does); a restarted agent adopts them.

import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { startAgent } from '../agent/agent.js';
import { startAgentEndpoint } from '../agent/server/endpoint.js';
import { AGENT_DEFAULTS } from '../agent/config.js';
import { decimal, port, runUntilSignal } from './run.js';

function positiveInteger(value: string): number {
  const n = decimal(value, 'a positive integer');
  if (n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function seconds(value: string): number {
  const n = decimal(value, 'a positive number of seconds', true);
  if (n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n * 1000;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function agentCommand(program: Command): void {
  program
    .command('agent')
    .description("Run the node agent: register this node and run the pods bound to it on the host's Docker engine.")
    .option('--server <url>', 'the API server, https://host:port')
    .option('--token-file <file>', 'file holding the node join token (`skiff token` prints it)')
    .option('--ca-file <file>', "the cluster CA certificate (PEM); checked against the token's CA hash")
    .option('--kubeconfig <file>', 'a kubeconfig to reach the API server with, instead of --server/--token-file/--ca-file')
    .requiredOption('--node-name <name>', 'name of this node')
    .requiredOption('--node-ip <ip>', "this node's address (InternalIP)")
    .requiredOption('--data-dir <dir>', 'where pod volumes and files live')
    .option('--docker-host <url>', 'Docker engine: unix:///path or tcp://host:port', 'unix:///var/run/docker.sock')
    .option('--pod-infra-image <image>', 'the pod sandbox ("pause") image', AGENT_DEFAULTS.podInfraImage)
    .option('--max-pods <n>', 'pods this node can run', positiveInteger, AGENT_DEFAULTS.maxPods)
    .option('--cluster-dns <ips>', 'nameserver(s) for ClusterFirst pods, comma-separated', list, AGENT_DEFAULTS.clusterDns)
    .option('--cluster-domain <domain>', 'the cluster DNS domain', AGENT_DEFAULTS.clusterDomain)
    .option('--agent-port <n>', "port of the agent's HTTPS endpoint, published in the node status", port, AGENT_DEFAULTS.kubeletPort)
    .option('--crash-loop-backoff-base <seconds>', 'first CrashLoopBackOff delay', seconds)
    .option('--node-status-update-frequency <seconds>', 'how often node status is computed', seconds)
    .option(
      '--node-lease-duration-seconds <n>',
      "duration of the node's Lease; it is renewed every quarter of it (keep it below the server's --node-monitor-grace-period)",
      positiveInteger,
      AGENT_DEFAULTS.leaseDurationSeconds,
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(
      async (opts: {
        server?: string;
        tokenFile?: string;
        caFile?: string;
        kubeconfig?: string;
        nodeName: string;
        nodeIp: string;
        dataDir: string;
        dockerHost: string;
        podInfraImage: string;
        maxPods: number;
        clusterDns: string[];
        clusterDomain: string;
        agentPort: number;
        crashLoopBackoffBase?: number;
        nodeStatusUpdateFrequency?: number;
        nodeLeaseDurationSeconds: number;
        logLevel: string;
      }) => {
        // The agent waits nearly all the time; its heap is mostly loaded code, and what it
        // allocates is short-lived. V8's size-over-speed mode (smaller heap growth steps, so
        // garbage is collected sooner) lowered the median RSS of an agent with 50 pods at rest
        // by about 3 MB (78.7 against 82.1 MB over 10 and 6 runs of bench/agent.ts), with no CPU
        // cost it could see. Set here: NODE_OPTIONS refuses V8 flags of this kind.
        setFlagsFromString('--optimize-for-size');
        const logger = pino({ name: 'skiff-agent', level: opts.logLevel });
        await runUntilSignal(async () => {
          const agent = await startAgent({
            server: opts.server,
            tokenFile: opts.tokenFile && resolve(opts.tokenFile),
            caFile: opts.caFile && resolve(opts.caFile),
            kubeconfig: opts.kubeconfig && resolve(opts.kubeconfig),
            nodeName: opts.nodeName,
            nodeIp: opts.nodeIp,
            dataDir: resolve(opts.dataDir),
            dockerHost: opts.dockerHost,
            podInfraImage: opts.podInfraImage,
            maxPods: opts.maxPods,
            clusterDns: opts.clusterDns,
            clusterDomain: opts.clusterDomain,
            kubeletPort: opts.agentPort,
            crashLoopBackOff:
              opts.crashLoopBackoffBase !== undefined ? { initialMs: opts.crashLoopBackoffBase, maxMs: AGENT_DEFAULTS.crashLoopBackOff.maxMs } : undefined,
            nodeStatusUpdateIntervalMs: opts.nodeStatusUpdateFrequency,
            // The kubelet renews its Lease every 25% of nodeLeaseDurationSeconds (NodeLeaseRenewIntervalFraction).
            leaseDurationSeconds: opts.nodeLeaseDurationSeconds,
            leaseRenewIntervalMs: opts.nodeLeaseDurationSeconds * 250,
            logger,
          });
          // The HTTPS endpoint for `kubectl logs`, `kubectl top` and metrics (agent/server/).
          const endpoint = await startAgentEndpoint(agent).catch(async (err: unknown) => {
            await agent.close();
            throw err;
          });
          return {
            async close() {
              await endpoint.close();
              await agent.close();
            },
          };
        });
      },
    );
}
