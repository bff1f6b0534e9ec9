// Test harness: a real control plane (HTTPS, tokens, SQLite) in a temporary directory, an HTTP
// client that trusts its CA, and the machine's kubectl pointed at it with a fresh discovery
// cache. Everything is removed by `close()`.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import type { ControlPlane, ControlPlaneConfig } from '../../controlplane/controlplane.js';
import { startControlPlane } from '../../controlplane/controlplane.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  controlPlane: ControlPlane;
  dataDir: string;
  url: string;
  /** Sends a request as admin (or with `token`); JSON bodies are serialised. */
  api<T = any>(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; token?: string | null }): Promise<ApiResponse<T>>;
  /** An undici dispatcher trusting the cluster CA, for streaming requests. */
  dispatcher: Agent;
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<KubectlResult>;
  close(): Promise<void>;
}

export const KUBECTL = process.env['SKIFF_KUBECTL'] ?? 'kubectl';

export async function startTestCluster(config: Partial<ControlPlaneConfig> = {}): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-test-'));
  const controlPlane = await startControlPlane({
    dataDir,
    bindAddress: '127.0.0.1',
    port: 0,
    serviceCidr: '10.43.0.0/16',
    nodePortRange: '30000-32767',
    logger: pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' }),
    ...config,
  });
  const dispatcher = new Agent({ connect: { ca: controlPlane.caCertPem }, pipelining: 0 });
  const url = controlPlane.url;
  const cacheDir = join(dataDir, 'kubectl-cache');

  const api: TestCluster['api'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token !== null) headers['authorization'] = `Bearer ${options.token ?? controlPlane.adminToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await request(`${url}${path}`, { method: method as 'GET', headers, body, dispatcher });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: leave the text
    }
    return { status: res.statusCode, headers: res.headers, body: parsed as any, text };
  };

  const kubectl: TestCluster['kubectl'] = (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(KUBECTL, [`--kubeconfig=${controlPlane.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: controlPlane.kubeconfigPath, ...options.env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });

  return {
    controlPlane,
    dataDir,
    url,
    api,
    dispatcher,
    kubectl,
    async close() {
      await dispatcher.close();
      await controlPlane.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
