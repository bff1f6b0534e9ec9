// HTTP upgrades (`kubectl exec`, `attach`, `port-forward`) as the API server and the agent both see them:
// before the switch, a refusal is a plain HTTP response written on the raw socket, with a
// Kubernetes Status as its body, which kubectl decodes and prints (for WebSocket and SPDY alike).

import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { internalError, StatusError } from './errors.js';

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

/**
 * Serves an upgrade request with `serve`. An error it throws is answered as its Status (one that
 * is not a StatusError as a 500, after `unexpected` is told). Resolves with the HTTP status of
 * the answer: 101 when the connection switched.
 */
export async function serveUpgrade(socket: Duplex, serve: () => Promise<void>, unexpected: (err: unknown) => void): Promise<number> {
  socket.on('error', () => socket.destroy());
  try {
    await serve();
    return 101;
  } catch (err) {
    if (!(err instanceof StatusError)) unexpected(err);
    const status = err instanceof StatusError ? err : internalError(err);
    refuseUpgrade(socket, status);
    return status.code;
  }
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

/** The versions a SPDY upgrade offers in its X-Stream-Protocol-Version headers. */
export function offeredStreamProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['x-stream-protocol-version'];
  return (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The answer that switches a connection to SPDY/3.1 speaking `version`. */
export function spdySwitchingProtocols(version: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${version}\r\n\r\n`;
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
