// `skiff server`: flags → ControlPlaneConfig → startControlPlane.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_CONTROL_PLANE, startControlPlane } from '../controlplane/controlplane.js';
import { port, runUntilSignal } from './run.js';

export function serverCommand(program: Command): void {
  program
    .command('server')
    .description('Run the control plane: the API server on an embedded SQLite store.')
    .requiredOption('--data-dir <dir>', 'where the store, certificates, tokens and admin kubeconfig live')
    .option('--bind-address <addr>', 'address to listen on', DEFAULT_CONTROL_PLANE.bindAddress)
    .option('--port <n>', 'HTTPS port of the API', port, DEFAULT_CONTROL_PLANE.port)
    .option('--advertise-address <addr>', 'address agents and pods use to reach the API (default: the bind address, or 127.0.0.1)')
    .option('--service-cidr <cidr>', 'range of Service ClusterIPs', DEFAULT_CONTROL_PLANE.serviceCidr)
    .option('--service-node-port-range <range>', 'range of Service NodePorts', DEFAULT_CONTROL_PLANE.nodePortRange)
    .option('--tls-san <name...>', 'extra names or IPs for the serving certificate')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (opts: {
      dataDir: string;
      bindAddress: string;
      port: number;
      advertiseAddress?: string;
      serviceCidr: string;
      serviceNodePortRange: string;
      tlsSan?: string[];
      logLevel: string;
    }) => {
      const logger = pino({ name: 'skiff-server', level: opts.logLevel });
      await runUntilSignal(() =>
        startControlPlane({
          dataDir: resolve(opts.dataDir),
          bindAddress: opts.bindAddress,
          port: opts.port,
          advertiseAddress: opts.advertiseAddress,
          serviceCidr: opts.serviceCidr,
          nodePortRange: opts.serviceNodePortRange,
          tlsSans: opts.tlsSan,
          logger,
        }),
      );
    });

}
