// How the API server reaches a node's agent (for pods/log and metrics.k8s.io), as kube-apiserver
// reaches kubelets: HTTPS to the node's address and the port the node publishes in
// status.daemonEndpoints.kubeletEndpoint.Port. The API server authenticates with a client
// certificate from the cluster CA (O=system:masters, what the agent requires) and verifies the
// agent's serving certificate against the same CA (the agent got it at join, naming its IP).

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Node } from 'kubernetes-types/core/v1.js';
import { Agent } from '../../api/undici-core.js';
import type { Dispatcher } from '../../api/undici-core.js';
import { isStatus, StatusError } from '../../api/errors.js';
import type { IssuedCertificate } from './pki.js';

export const DEFAULT_AGENT_PORT = 10250;

export interface AgentEndpoint {
  nodeName: string;
  host: string;
  port: number;
}

// kube-apiserver's default --kubelet-preferred-address-types, minus the DNS kinds Skiff does not set.
const ADDRESS_PREFERENCE = ['InternalIP', 'Hostname', 'ExternalIP'];

/** Where the agent of `node` listens; 503 when the node publishes no address. */
export function agentEndpointOf(node: Node): AgentEndpoint {
  const nodeName = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  for (const type of ADDRESS_PREFERENCE) {
    const address = addresses.find((a) => a.type === type && a.address);
    if (address) {
      return { nodeName, host: address.address, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_AGENT_PORT };
    }
  }
  throw new StatusError(503, 'ServiceUnavailable', `node "${nodeName}" has no address to reach its agent at; known addresses: []`);
}

function urlOf(endpoint: AgentEndpoint, path: string): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `https://${host}:${endpoint.port}${path}`;
}

/** An agent's error answer: its Status when it sent one, else a 500 carrying its text. */
export function agentError(statusCode: number, text: string): StatusError {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isStatus(parsed)) return StatusError.fromStatus(parsed);
  } catch {
    // not JSON
  }
  return new StatusError(500, 'InternalError', `the agent answered ${statusCode}: ${text.slice(0, 500)}`);
}

export interface AgentClientOptions {
  caCertPem: string;
  /** The API server's client certificate for agents. */
  clientCertificate: IssuedCertificate;
  connectTimeoutMs?: number;
}

/** What an agent answered to an upgrade request: the switched connection, or its refusal. */
export type UpgradeResult =
  | { upgraded: true; headers: IncomingHttpHeaders; rawHeaders: string[]; socket: Duplex; head: Buffer }
  | { upgraded: false; response: IncomingMessage };

export class AgentClient {
  private readonly dispatcher: Agent;

  constructor(private readonly options: AgentClientOptions) {
    this.dispatcher = new Agent({
      connect: {
        ca: options.caCertPem,
        cert: options.clientCertificate.certPem,
        key: options.clientCertificate.keyPem,
        timeout: options.connectTimeoutMs ?? 5_000,
      },
      // Log follows are long-lived: no body timeout; headers come at once.
      bodyTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 30_000,
    });
  }

  /**
   * GET `path` from the agent. Resolves with the response whatever its status (the caller relays
   * an agent's Status errors); rejects with a 500 naming the URL when the agent cannot be reached.
   */
  async get(endpoint: AgentEndpoint, path: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const url = urlOf(endpoint, path);
    try {
      return await this.dispatcher.request({ origin: new URL(url).origin, path, method: 'GET', signal });
    } catch (err) {
      if (signal.aborted) throw err;
      const why = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      throw new StatusError(500, 'InternalError', `Get "${url}": ${why}`);
    }
  }

  /**
   * Sends an upgrade request (`kubectl exec` and `attach`: WebSocket or SPDY) to the agent on a
   * connection of its own. Resolves with the switched connection, or with the agent's answer
   * when it refused (the caller relays it); rejects with a 500 naming the URL when the agent
   * cannot be reached.
   */
  upgrade(endpoint: AgentEndpoint, path: string, headers: Record<string, string>): Promise<UpgradeResult> {
    const url = urlOf(endpoint, path);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, {
        method: 'GET',
        headers,
        ca: this.options.caCertPem,
        cert: this.options.clientCertificate.certPem,
        key: this.options.clientCertificate.keyPem,
        agent: false,
        timeout: this.options.connectTimeoutMs ?? 5_000,
      });
      req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        socket.setTimeout(0);
        resolve({ upgraded: true, headers: res.headers, rawHeaders: res.rawHeaders, socket, head });
      });
      req.once('response', (response) => resolve({ upgraded: false, response }));
      req.once('timeout', () => req.destroy(new Error('timed out connecting')));
      req.once('error', (err) => reject(new StatusError(500, 'InternalError', `Get "${url}": ${err.message}`)));
      req.end();
    });
  }

  /** GET `path` as JSON; non-2xx answers become StatusErrors. */
  async getJson<T>(endpoint: AgentEndpoint, path: string, signal: AbortSignal): Promise<T> {
    const res = await this.get(endpoint, path, signal);
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new StatusError(503, 'ServiceUnavailable', `the agent of node "${endpoint.nodeName}" answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    return JSON.parse(text) as T;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
