#!/usr/bin/env node
// The single `skiff` command: `server`, `kubeconfig`, `token` (and, with their issues, `agent`,
// `up`, `proxy`, `dns`). Each subcommand parses flags and hands a config to its component.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_CONTROL_PLANE, startControlPlane } from '../controlplane/controlplane.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** Runs `start`, then waits for SIGINT/SIGTERM and closes what it started. */
async function runUntilSignal(start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  const running = await start();
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('skiff')
    .description('A small, Kubernetes-compatible container orchestrator.')
    .version('0.1.0')
    .showHelpAfterError();

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

  program
    .command('kubeconfig')
    .description("Print the admin kubeconfig of a server's data directory.")
    .requiredOption('--data-dir <dir>', 'the server data directory')
    .action(async (opts: { dataDir: string }) => {
      process.stdout.write(await readFile(join(resolve(opts.dataDir), 'admin.kubeconfig'), 'utf8'));
    });

  program
    .command('token')
    .description('Print the node join token of a server (what `skiff agent --token-file` reads).')
    .requiredOption('--data-dir <dir>', 'the server data directory')
    .action(async (opts: { dataDir: string }) => {
      process.stdout.write(await readFile(join(resolve(opts.dataDir), 'node-token'), 'utf8'));
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(`skiff: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
