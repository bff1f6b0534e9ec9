// pods/exec, pods/attach and pods/portforward: `kubectl exec`, `attach` and `port-forward`
// upgrade their connection (a WebSocket since kubectl 1.30 — the channel protocol, or SPDY
// tunnelled for port-forward — and plain SPDY before, and as kubectl's fallback). The API server
// checks the pod and the container as kube-apiserver does, then passes the upgrade request to the
// agent of the pod's node (kubelet's /exec, /attach and /portForward paths, with the API
// server's client certificate) and, once the agent switched protocols, splices the two
// connections without looking into them. Whatever the agent refuses (an unknown container, one
// that is not running, a protocol version it does not speak) reaches kubectl as its Status.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { badRequest } from '../../api/errors.js';
import { splice } from '../../api/upgrade.js';
import { agentEndpointOf, agentError } from './agentclient.js';
import { containerOf } from './podlogs.js';
import type { PodLogsDependencies } from './podlogs.js';

export const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** The request headers the agent needs to answer the upgrade (never the caller's credentials). */
const FORWARDED_HEADERS = ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'x-stream-protocol-version'];

function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The response head of a switch, as the agent sent it (its accept key and chosen protocol). */
function switchingProtocolsHead(rawHeaders: string[]): string {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < 64 * 1024) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

export type PodStreamsHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: { namespace: string; name: string; subresource: string; query: URLSearchParams },
) => Promise<void>;

/**
 * Serves one upgrade request for pods/exec, pods/attach or pods/portforward. Errors before the switch, the agent's
 * refusal among them, are thrown (the caller writes them on the socket); afterwards the
 * connection is the agent's.
 */
export function podStreamsHandler(deps: PodLogsDependencies): PodStreamsHandler {
  return async (req, socket, head, { namespace, name, subresource, query }) => {
    const pod = (await deps.pods().get(namespace, name)) as Pod;
    const nodeName = pod.spec?.nodeName;
    let path: string;
    if (subresource === 'portforward') {
      path = `/portForward/${[namespace, name].map(encodeURIComponent).join('/')}`;
    } else {
      const container = containerOf(pod, query.get('container') ?? undefined);
      const agentQuery = new URLSearchParams(query);
      agentQuery.delete('container');
      path = `/${subresource}/${[namespace, name, container].map(encodeURIComponent).join('/')}?${agentQuery}`;
    }
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const endpoint = agentEndpointOf((await deps.nodes().get(undefined, nodeName)) as Node);
    const result = await deps.agents.upgrade(endpoint, path, forwardedHeaders(req));
    if (!result.upgraded) throw agentError(result.response.statusCode ?? 500, await readText(result.response));
    if (socket.destroyed) {
      result.socket.destroy();
      return;
    }
    socket.write(switchingProtocolsHead(result.rawHeaders));
    if (result.head.length > 0) socket.write(result.head);
    if (head.length > 0) result.socket.write(head);
    splice(socket, result.socket);
  };
}
