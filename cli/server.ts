// `skiff server`: flags → ControlPlaneConfig (serverConfig) → startControlPlane.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_TOLERATION_SECONDS } from '../controlplane/apiserver/defaults/tolerations.js';
import { DEFAULT_CONTROL_PLANE, startControlPlane } from '../controlplane/controlplane.js';
import type { ControlPlaneConfig } from '../controlplane/controlplane.js';
import { DEFAULT_CONTROLLERS_CONFIG } from '../controlplane/controllers/index.js';
import { DEFAULT_LEADER_ELECTION } from '../controlplane/leaderelection/config.js';
import { decimal, port, runUntilSignal } from './run.js';

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go's time.ParseDuration reads it, which Kubernetes' flags use (`1.5s`, `250ms`,
 * `1m30s`, `.5s`, `100us`, a bare `0`), in milliseconds. A negative one is refused: no flag here
 * means anything by it.
 */
export function duration(value: string): number {
  if (value === '0') return 0;
  const parts = [...value.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new InvalidArgumentError('must be a duration such as 1.5s, 250ms or 1m');
  return parts.reduce((total, p) => total + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

function wholeNumber(value: string): number {
  return decimal(value, 'a whole number');
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

/** `skiff server`'s flags as commander parses them (durations in milliseconds). */
export interface ServerFlags {
  dataDir: string;
  bindAddress: string;
  port: number;
  advertiseAddress?: string;
  serviceCidr: string;
  serviceNodePortRange: string;
  tlsSan?: string[];
  logLevel: string;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  nodeMonitorGracePeriod: number;
  nodeMonitorPeriod: number;
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
  leaderElectLeaseDuration?: number;
  leaderElectRenewDeadline?: number;
  leaderElectRetryPeriod?: number;
  disableControllerManager?: boolean;
}

/** The control plane the flags ask for (its logger aside). */
export function serverConfig(flags: ServerFlags): ControlPlaneConfig {
  return {
    dataDir: resolve(flags.dataDir),
    bindAddress: flags.bindAddress,
    port: flags.port,
    advertiseAddress: flags.advertiseAddress,
    serviceCidr: flags.serviceCidr,
    nodePortRange: flags.serviceNodePortRange,
    tlsSans: flags.tlsSan,
    defaultTolerationSeconds: { notReady: flags.defaultNotReadyTolerationSeconds, unreachable: flags.defaultUnreachableTolerationSeconds },
    controllerManager: flags.disableControllerManager
      ? undefined
      : {
          election: {
            leaseDurationMs: flags.leaderElectLeaseDuration ?? DEFAULT_LEADER_ELECTION.leaseDurationMs,
            renewDeadlineMs: flags.leaderElectRenewDeadline ?? DEFAULT_LEADER_ELECTION.renewDeadlineMs,
            retryPeriodMs: flags.leaderElectRetryPeriod ?? DEFAULT_LEADER_ELECTION.retryPeriodMs,
          },
          controllers: {
            clusterCidr: flags.clusterCidr,
            nodeCidrMaskSize: flags.nodeCidrMaskSize,
            nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod,
            nodeMonitorPeriodMs: flags.nodeMonitorPeriod,
          },
        },
  };
}

/** The cluster's flags, the same for `skiff server` and `skiff up` (ServerFlags but the listener's). */
export function clusterFlags(command: Command): Command {
  return command
    .option('--service-cidr <cidr>', 'range of Service ClusterIPs', DEFAULT_CONTROL_PLANE.serviceCidr)
    .option('--service-node-port-range <range>', 'range of Service NodePorts', DEFAULT_CONTROL_PLANE.nodePortRange)
    .option('--tls-san <name...>', 'extra names or IPs for the serving certificate')
    .option('--cluster-cidr <cidr>', 'range the nodes\' pod CIDRs come from', DEFAULT_CONTROLLERS_CONFIG.clusterCidr)
    .option('--node-cidr-mask-size <n>', 'prefix length of each node\'s pod CIDR', wholeNumber, DEFAULT_CONTROLLERS_CONFIG.nodeCidrMaskSize)
    .addOption(
      new Option('--node-monitor-grace-period <duration>', 'silence after which a node is Unknown')
        .argParser(duration)
        .default(DEFAULT_CONTROLLERS_CONFIG.nodeMonitorGracePeriodMs, seconds(DEFAULT_CONTROLLERS_CONFIG.nodeMonitorGracePeriodMs)),
    )
    .addOption(
      new Option('--node-monitor-period <duration>', 'how often node health is checked')
        .argParser(duration)
        .default(DEFAULT_CONTROLLERS_CONFIG.nodeMonitorPeriodMs, seconds(DEFAULT_CONTROLLERS_CONFIG.nodeMonitorPeriodMs)),
    )
    .option('--default-not-ready-toleration-seconds <n>', 'tolerationSeconds of the not-ready toleration pods get', wholeNumber, DEFAULT_TOLERATION_SECONDS.notReady)
    .option('--default-unreachable-toleration-seconds <n>', 'tolerationSeconds of the unreachable toleration pods get', wholeNumber, DEFAULT_TOLERATION_SECONDS.unreachable)
    .option('--leader-elect-lease-duration <duration>', `how long candidates wait for an unrenewed leader lease (default ${seconds(DEFAULT_LEADER_ELECTION.leaseDurationMs)})`, duration)
    .option('--leader-elect-renew-deadline <duration>', `how long the leader acts without renewing (default ${seconds(DEFAULT_LEADER_ELECTION.renewDeadlineMs)})`, duration)
    .option('--leader-elect-retry-period <duration>', `how often the lease is renewed or tried (default ${seconds(DEFAULT_LEADER_ELECTION.retryPeriodMs)})`, duration);
}

export function serverCommand(program: Command): void {
  const command = program
    .command('server')
    .description('Run the control plane: the API server on an embedded SQLite store.')
    .requiredOption('--data-dir <dir>', 'where the store, certificates, tokens and admin kubeconfig live')
    .option('--bind-address <addr>', 'address to listen on', DEFAULT_CONTROL_PLANE.bindAddress)
    .option('--port <n>', 'HTTPS port of the API', port, DEFAULT_CONTROL_PLANE.port)
    .option('--advertise-address <addr>', 'address agents and pods use to reach the API (default: the bind address, or 127.0.0.1)');
  clusterFlags(command)
    .option('--disable-controller-manager', 'serve the API only: no scheduler, no controllers')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (flags: ServerFlags) => {
      const logger = pino({ name: 'skiff-server', level: flags.logLevel });
      await runUntilSignal(() => startControlPlane({ ...serverConfig(flags), logger }));
    });

}
