// HTTP upgrades (`kubectl exec` and `attach`) as the API server and the agent both see them:
// before the switch, a refusal is a plain HTTP response written on the raw socket, with a
// Kubernetes Status as its body, which kubectl decodes and prints (for WebSocket and SPDY alike).

import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StatusError } from './errors.js';

/** Writes `err` as an HTTP response on a socket that was not upgraded, then closes it. */
export function refuseUpgrade(socket: Duplex, err: StatusError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The upgrade protocol a request asks for, lower-cased ('websocket', 'spdy/3.1'), or undefined. */
export function upgradeProtocol(req: IncomingMessage): string | undefined {
  return req.headers.upgrade?.toLowerCase();
}

/** The WebSocket subprotocols a request offers, in its order of preference. */
export function offeredSubprotocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Ties two connections together until either ends; each end closes the other. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.once('close', close);
    s.once('error', close);
  }
}
