#!/usr/bin/env node
// The single `skiff` command: `server`, `kubeconfig`, `token` (and, with their issues, `agent`,
// `up`, `proxy`, `dns`). Each subcommand parses flags and hands a config to its component.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { serverCommand } from './server.js';
import { agentCommand } from './agent.js';
import { upCommand } from './up.js';

export function buildCli(): Command {
  const program = new Command();
  program
    .name('skiff')
    .description('A small, Kubernetes-compatible container orchestrator.')
    .version('0.1.0')
    .showHelpAfterError();

  serverCommand(program);
  agentCommand(program);
  upCommand(program);

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
