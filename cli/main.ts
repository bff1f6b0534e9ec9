#!/usr/bin/env node
// The single `skiff` command: `server`, `kubeconfig`, `token` (and, with their issues, `agent`,
// `up`, `proxy`, `dns`). Each subcommand parses flags and hands a config to its component.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';

/**
 * Each subcommand's module is loaded only when that subcommand runs (or for the top-level help):
 * `skiff agent` then never loads the control plane's code, which keeps the agent's memory small.
 */
const SUBCOMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  server: async () => (await import('./server.js')).serverCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
  up: async () => (await import('./up.js')).upCommand,
};

export async function buildCli(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command();
  program
    .name('skiff')
    .description('A small, Kubernetes-compatible container orchestrator.')
    .version('0.1.0')
    .showHelpAfterError();

  const invoked = argv[2];
  const wanted = invoked !== undefined && invoked in SUBCOMMANDS ? [invoked] : Object.keys(SUBCOMMANDS);
  for (const name of wanted) (await SUBCOMMANDS[name]!())(program);

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
  .then((program) => program.parseAsync(process.argv))
  .catch((err: unknown) => {
    console.error(`skiff: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
