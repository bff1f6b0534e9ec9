// Connections to a pod's ports for `kubectl port-forward`, made where the kubelet's runtimes make
// them: inside the pod's network namespace, to localhost (dockershim ran `nsenter -t <sandbox
// pid> -n socat - TCP4:localhost:PORT`; containerd dials 127.0.0.1, then ::1). So a server bound
// to 127.0.0.1 is reached, and every server sees a loopback peer, as under Kubernetes (Redis'
// protected mode, for one, refuses other peers). Node has no setns: a helper process
// (netns-connect.ts), started in the namespace with nsenter, makes the connections and hands the
// sockets back over its IPC channel; the agent copies the bytes as for any socket. One helper
// serves a port-forward session: its start (a Node process: ~45 MB, ~0.15 s measured on a busy
// 2-core machine) is paid by the session's first connection; later ones take under a
// millisecond. It goes with the session, or after IDLE_MS without a request.

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A helper with no connection to make for this long goes; the next connection starts another. */
const IDLE_MS = 30_000;
const STDERR_LIMIT = 2048;

/** Helper ⇄ agent messages (a reply to a connect request carries the socket when it connected). */
export interface NetnsConnectRequest {
  id: number;
  port: number;
}
export type NetnsConnectReply = { id: number; connected: true } | { id: number; connected: false; error: string };

/** The pod's network namespace could not be entered (nsenter missing, the namespace gone). */
export class NetnsUnavailableError extends Error {
  override readonly name = 'NetnsUnavailableError';
  constructor(
    message: string,
    /** nsenter is not installed: nothing will enter any namespace. */
    readonly nsenterMissing = false,
  ) {
    super(message);
  }
}

/** A TCP connection, paused: nothing is read until the caller reads (or hands the socket on). */
export function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.pause();
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * localhost:port in this process's network namespace: 127.0.0.1, then ::1, as containerd dials.
 * `where` names the namespace in the error.
 */
export async function connectLocalhost(port: number, where = ''): Promise<Socket> {
  try {
    return await connectTcp('127.0.0.1', port);
  } catch (v4) {
    try {
      return await connectTcp('::1', port);
    } catch (v6) {
      throw new Error(`failed to connect to localhost:${port}${where}: IPv4: ${(v4 as Error).message}, IPv6: ${(v6 as Error).message}`);
    }
  }
}

/** The helper beside this file, as a command; from TypeScript sources (tsx), with the agent's loader. */
function helperCommand(): string[] {
  const self = fileURLToPath(import.meta.url);
  const ext = extname(self);
  const helper = join(dirname(self), `netns-connect${ext}`);
  if (ext !== '.ts') return [process.execPath, helper];
  const loader: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (['--import', '--require', '-r', '--loader'].includes(arg) && i + 1 < argv.length) loader.push(arg, argv[++i]!);
    else if (/^--(import|require|loader)=/.test(arg)) loader.push(arg);
  }
  return [process.execPath, ...loader, helper];
}

interface Pending {
  /** The helper asked: its end fails the request. */
  helper: ChildProcess;
  resolve(socket: Socket): void;
  reject(err: Error): void;
}

/** Connections to localhost inside one network namespace (`netnsPath`, e.g. /proc/<pid>/ns/net). */
export class NetnsDialer {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly netnsPath: string,
    private readonly idleMs = IDLE_MS,
  ) {}

  connect(port: number): Promise<Socket> {
    const child = this.child ?? this.start();
    const id = ++this.nextId;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    return new Promise<Socket>((resolve, reject) => {
      this.pending.set(id, { helper: child, resolve, reject });
      const request: NetnsConnectRequest = { id, port };
      // A channel that cannot take the request belongs to a helper that failed to start or
      // ended: its 'error' or 'exit' settles every request.
      child.send(request, () => undefined);
    });
  }

  /** Stops the helper; connections it made are the caller's and stay. */
  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.child?.kill();
    this.child = undefined;
  }

  private start(): ChildProcess {
    const child = spawn('nsenter', [`--net=${this.netnsPath}`, '--', ...helperCommand()], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString();
    });
    child.on('message', (reply: NetnsConnectReply, socket?: unknown) => {
      if (reply.connected && socket) this.settle(reply.id, socket as Socket);
      else this.settle(reply.id, undefined, new Error(reply.connected ? 'the helper sent no socket' : reply.error));
    });
    const gone = (err: Error) => {
      if (this.child === child) this.child = undefined;
      for (const [id, pending] of [...this.pending]) if (pending.helper === child) this.settle(id, undefined, err);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT';
      gone(new NetnsUnavailableError(missing ? 'nsenter (util-linux) is not installed' : `nsenter: ${err.message}`, missing));
    });
    child.on('exit', (code, signal) => {
      gone(new NetnsUnavailableError(`entering ${this.netnsPath} failed (nsenter ${signal ?? `exited with ${code}`}): ${stderr.trim() || 'no message'}`));
    });
    // The helper must not keep the agent's process alive.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    return child;
  }

  private settle(id: number, socket: Socket | undefined, err?: Error): void {
    const pending = this.pending.get(id);
    if (!pending) {
      socket?.destroy();
      return;
    }
    this.pending.delete(id);
    if (socket) pending.resolve(socket);
    else pending.reject(err ?? new Error('no connection'));
    if (this.pending.size === 0 && this.child) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.close(), this.idleMs);
      this.idleTimer.unref();
    }
  }
}
