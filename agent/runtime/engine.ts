// The Docker Engine connection: dockerode on a unix socket or TCP address, with every call
// measured (duration, errors by operation) so that a slow or failing engine shows on the
// agent's metrics.

import './dockerode-lean.js';
import Docker from 'dockerode';
import type { AgentMetrics } from '../metrics.js';

/** `unix:///var/run/docker.sock` (the default) or `tcp://host:port` (plain HTTP, as DOCKER_HOST). */
export function dockerFromHost(host = 'unix:///var/run/docker.sock'): Docker {
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  if (host.startsWith('/')) return new Docker({ socketPath: host });
  throw new Error(`unsupported --docker-host "${host}": use unix:///path or tcp://host:port`);
}

/** Whether the engine runs on this host (a unix socket), so that its containers' processes and namespaces are ours to see. */
export function engineIsLocal(host = 'unix:///var/run/docker.sock'): boolean {
  return host.startsWith('unix://') || host.startsWith('/');
}

/** An error from the Engine API: docker-modem puts the HTTP status and Docker's message on it. */
interface ModemError {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

export function dockerStatusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as ModemError).statusCode : undefined;
}

export function isDockerNotFound(err: unknown): boolean {
  return dockerStatusCode(err) === 404;
}

export function isDockerConflict(err: unknown): boolean {
  return dockerStatusCode(err) === 409;
}

/** Docker's own message ("No such image: x", "port is already allocated"), not docker-modem's wrapper. */
export function dockerErrorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as ModemError;
    const json = e.json;
    if (json && typeof json === 'object' && typeof json.message === 'string') return json.message;
    if (typeof e.message === 'string') return e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  }
  return String(err);
}

/** Operations run a few at a time: Docker 20.10 can lose count of a network's endpoints when
 * dozens of its containers are removed at once, and then refuses to remove the network. */
const LIMITED: Record<string, number> = { remove_container: 4 };

export class Engine {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    readonly docker: Docker,
    private readonly metrics: AgentMetrics,
  ) {}

  /** Runs one Engine API operation, timing it and counting its failure. */
  async call<T>(operation: string, fn: (docker: Docker) => Promise<T>): Promise<T> {
    const limit = LIMITED[operation];
    if (limit === undefined) return this.measured(operation, fn);
    while ((this.running.get(operation) ?? 0) >= limit) {
      await new Promise<void>((resolve) => (this.waiting.get(operation) ?? this.waiting.set(operation, []).get(operation)!).push(resolve));
    }
    this.running.set(operation, (this.running.get(operation) ?? 0) + 1);
    try {
      return await this.measured(operation, fn);
    } finally {
      this.running.set(operation, (this.running.get(operation) ?? 1) - 1);
      this.waiting.get(operation)?.shift()?.();
    }
  }

  private async measured<T>(operation: string, fn: (docker: Docker) => Promise<T>): Promise<T> {
    const end = this.metrics.dockerOperationDuration.startTimer({ operation });
    try {
      return await fn(this.docker);
    } catch (err) {
      // A 404 answers a question ("is it there?"); it is not an engine failure.
      const code = dockerStatusCode(err);
      if (code !== 404 && code !== 304) this.metrics.dockerOperationErrors.inc({ operation });
      throw err;
    } finally {
      end();
    }
  }
}
