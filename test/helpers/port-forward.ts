// `kubectl port-forward` run as a user runs it: a child process that prints one "Forwarding
// from 127.0.0.1:LOCAL -> REMOTE" line per port once it listens.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { eventually, KUBECTL } from './cluster.js';

export interface PortForward {
  child: ChildProcess;
  /** Remote (pod) port → the local port kubectl listens on. */
  ports: Map<number, number>;
  stderr(): string;
  /** Waits for kubectl to exit by itself (it gives up a forward whose port refused). */
  exited(timeoutMs: number): Promise<void>;
  stop(): void;
}

/**
 * Starts `kubectl port-forward TARGET PORTS...` (each `:REMOTE`, so kubectl picks the local
 * port) and waits until it listens on all of them. `kubectlArgs` go before `port-forward`.
 */
export async function kubectlPortForward(
  kubeconfig: string,
  target: string,
  remotePorts: readonly number[],
  options: { kubectlArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<PortForward> {
  const args = [`--kubeconfig=${kubeconfig}`, ...(options.kubectlArgs ?? []), 'port-forward', target, ...remotePorts.map((p) => `:${p}`)];
  const child = spawn(KUBECTL, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  try {
    const ports = await eventually(
      () => {
        const open = [...stdout.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) => [Number(m[2]), Number(m[1])] as const);
        return open.length === remotePorts.length ? new Map(open) : undefined;
      },
      20_000,
      `kubectl port-forward to listen (stderr: ${stderr})`,
    );
    return {
      child,
      ports,
      stderr: () => stderr,
      exited: (timeoutMs) => eventually(() => (child.exitCode !== null ? true : undefined), timeoutMs, 'kubectl to stop').then(() => undefined),
      stop,
    };
  } catch (err) {
    stop();
    throw err;
  }
}
