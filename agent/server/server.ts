// The agent's HTTPS endpoint (kubelet's port 10250): container logs for `kubectl logs`, exec,
// attach and port-forward sessions, the usage summary for `kubectl top`, Prometheus metrics, and
// health.
//
//   GET /healthz                                   no credentials ("ok"), like kubelet's healthz
//   GET /containerLogs/{ns}/{pod}/{container}?...  logs (logs.ts)
//   GET /exec/{ns}/{pod}/{container}?command=...   `kubectl exec`, upgraded to a WebSocket (streams.ts) or SPDY (spdy-exec.ts)
//   GET /attach/{ns}/{pod}/{container}?...         `kubectl attach`, likewise
//   GET /portForward/{ns}/{pod}                    `kubectl port-forward`: SPDY, in a WebSocket or not (portforward.ts)
//   GET /stats/summary                             node and pod usage (summary.ts)
//   GET /metrics                                   Prometheus text: the agent's registry + node gauges
//
// Everything but /healthz needs the API server's client certificate (auth.ts); /metrics can be
// opened to anonymous scrapers with `anonymousMetrics`, as node exporters usually are.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { internalError, methodNotAllowed, notFound, serviceUnavailable, StatusError } from '../../api/errors.js';
import type { Duplex } from 'node:stream';
import { serveUpgrade } from '../../api/upgrade.js';
import type { ContainerLogSource, ContainerStreamSource, ResourceUsageSource } from '../interfaces.js';
import { checkCaller } from './auth.js';
import { containerOfPath, CONTAINER_LOGS_PREFIX, serveContainerLogs } from './logs.js';
import { NodeMetrics } from './metrics.js';
import { NodeCpuSampler } from './nodeusage.js';
import { StreamServer, STREAM_PATHS } from './streams.js';
import { buildSummary } from './summary.js';

export const DEFAULT_AGENT_PORT = 10250;

export interface AgentServerOptions {
  nodeName: string;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  /** Default 10250; 0 picks a free port (see `port` of the result). */
  port?: number;
  caCertPem: string;
  serving: { certPem: string; keyPem: string };
  logs: ContainerLogSource;
  /** exec and attach; without it those paths answer 404. */
  streams?: ContainerStreamSource;
  usage: ResourceUsageSource;
  /** Where the rest of the agent registers its metrics. */
  metricsRegistry?: Registry;
  /** The filesystem reported as the node's (the agent's data directory). */
  filesystemPath: string;
  /** Serve /metrics without a client certificate (default false). */
  anonymousMetrics?: boolean;
  /** How often node CPU is sampled, i.e. the usage window (default 10 s). */
  usageSampleIntervalMs?: number;
  logger?: Logger;
}

export interface AgentServer {
  port: number;
  close(): Promise<void>;
}

function sendText(res: ServerResponse, code: number, contentType: string, text: string): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, err.code, 'application/json', JSON.stringify(err.toStatus()));
}

/** The route label of a path for the request counter (no pod names: bounded cardinality). */
function routeOf(path: string): string {
  if (path.startsWith(CONTAINER_LOGS_PREFIX)) return CONTAINER_LOGS_PREFIX;
  const stream = STREAM_PATHS.find((p) => path.startsWith(p));
  if (stream) return stream;
  return ['/healthz', '/metrics', '/stats/summary'].includes(path) ? path : 'other';
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const cpu = new NodeCpuSampler(options.usageSampleIntervalMs);
  const metrics = new NodeMetrics(cpu, options.filesystemPath);

  const route = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    if (path === '/healthz') return sendText(res, 200, 'text/plain; charset=utf-8', 'ok');
    const anonymous = options.anonymousMetrics === true && path === '/metrics';
    if (!anonymous) {
      const caller = checkCaller(req);
      if (!caller.ok) throw new StatusError(caller.code, caller.code === 401 ? 'Unauthorized' : 'Forbidden', caller.message);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(`${req.method ?? ''} is not allowed on ${path}`);
    if (path.startsWith(CONTAINER_LOGS_PREFIX)) {
      const target = containerOfPath(path);
      if (!target) throw notFound({ group: '', resource: 'containerLogs' }, path);
      return serveContainerLogs(options.logs, req, res, target, query);
    }
    if (path === '/stats/summary') {
      const summary = await buildSummary({ nodeName: options.nodeName, cpu, usage: options.usage, filesystemPath: options.filesystemPath });
      if (!summary) throw serviceUnavailable('the first usage sample is not taken yet; try again in a few seconds');
      return sendText(res, 200, 'application/json', JSON.stringify(summary));
    }
    if (path === '/metrics') {
      const exposition = await metrics.exposition(options.metricsRegistry);
      return sendText(res, 200, exposition.contentType, exposition.text);
    }
    throw new StatusError(404, 'NotFound', `the agent does not serve ${path}`, {});
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://agent');
    try {
      await route(req, res, url.pathname, url.searchParams);
    } catch (err) {
      const status = err instanceof StatusError ? err : internalError(err);
      if (!(err instanceof StatusError)) options.logger?.error({ err, url: req.url }, 'agent endpoint request failed');
      sendStatus(res, status);
    } finally {
      metrics.requests.inc({ path: routeOf(url.pathname), code: String(res.statusCode) });
    }
  };

  const streams = options.streams ? new StreamServer(options.streams, options.logger) : undefined;
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://agent');
    const code = await serveUpgrade(
      socket,
      async () => {
        const caller = checkCaller(req);
        if (!caller.ok) throw new StatusError(caller.code, caller.code === 401 ? 'Unauthorized' : 'Forbidden', caller.message);
        if (!streams || !STREAM_PATHS.some((p) => url.pathname.startsWith(p))) {
          throw new StatusError(404, 'NotFound', `the agent does not upgrade connections on ${url.pathname}`, {});
        }
        await streams.serve(req, socket, head, url.pathname, url.searchParams);
      },
      (err) => options.logger?.error({ err, url: req.url }, 'agent endpoint upgrade failed'),
    );
    metrics.requests.inc({ path: routeOf(url.pathname), code: String(code) });
  };

  const server: Server = createServer(
    {
      cert: options.serving.certPem,
      key: options.serving.keyPem,
      ca: options.caCertPem,
      // Ask every caller for a certificate, and decide per path (healthz needs none).
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => void handle(req, res),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head));
  // Log follows are long-lived.
  server.requestTimeout = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_AGENT_PORT, options.bindAddress ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    cpu.stop();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  options.logger?.info({ port }, 'agent endpoint listening');
  return {
    port,
    async close() {
      cpu.stop();
      streams?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
