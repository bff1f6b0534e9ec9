// Runs the `skiff` command as a child process, the way users and systemd run it: from the
// compiled CLI when the tests run compiled (`npm test`), from the TypeScript source under tsx
// otherwise.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readKubeconfig } from '../../api/kubeconfig.js';
import { eventually } from './cluster.js';

const fromSource = import.meta.url.endsWith('.ts');
const cliEntry = fileURLToPath(new URL(`../../cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));

export interface SkiffProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL (no chance to clean up), then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, then wait for a clean exit. */
  stop(): Promise<void>;
}

export function runSkiff(args: readonly string[]): SkiffProcess {
  const loader = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  // SKIFF_PROFILE_DIR=dir writes a CPU profile of each child (for benchmarks).
  const profile = process.env['SKIFF_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['SKIFF_PROFILE_DIR']}`] : [];
  const child = spawn(process.execPath, [...profile, ...loader, cliEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { child, output: () => output, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** Starts `skiff server` on a free loopback port and waits until it serves; returns how to reach it. */
export async function runSkiffServer(dataDir: string, extraArgs: readonly string[] = []): Promise<SkiffProcess & { url: string; token: string; caPem: string }> {
  const kubeconfig = `${dataDir}/admin.kubeconfig`;
  // The server (re)writes its kubeconfig once the API is up, with the port it actually got.
  await rm(kubeconfig, { force: true });
  const proc = runSkiff(['server', '--data-dir', dataDir, '--bind-address', '127.0.0.1', '--port', '0', ...extraArgs]);
  const connection = await eventually(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`skiff server exited: ${proc.output()}`);
      const text = await readFile(kubeconfig, 'utf8').catch(() => '');
      if (!text) return undefined;
      return readKubeconfig(kubeconfig);
    },
    30_000,
    'skiff server to start',
  );
  return { ...proc, url: connection.server, token: connection.token!, caPem: connection.caPem! };
}
