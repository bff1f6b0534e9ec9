// kubelet's /portForward/{ns}/{pod}, which the API server's pods/portforward splices kubectl to.
// kubectl speaks SPDY/3 (spdy.ts), either tunnelled in a WebSocket's binary messages
// (subprotocol SPDY/3.1+portforward.k8s.io, what kubectl 1.30+ tries first) or, as its
// fallback, on the connection itself after `Upgrade: SPDY/3.1`. For every local connection it
// opens two streams with the same `requestID` and `port` headers: `streamType: error`, which the
// server writes a failure to, and `streamType: data`, the connection's bytes. As the kubelet
// does, both streams are accepted, the pod's port is dialled once the pair is complete, bytes are
// copied both ways (each side's end passed on), and the error stream is closed when the
// connection is over.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { badRequest } from '../../api/errors.js';
import { offeredStreamProtocols, offeredSubprotocols, upgradeProtocol } from '../../api/upgrade.js';
import type { PodPorts } from '../interfaces.js';
import { RstStatus, SpdySession } from './spdy.js';
import type { SpdyStream } from './spdy.js';

/** The WebSocket subprotocol of SPDY tunnelled for port-forwarding (KEP-4006). */
export const PORT_FORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
/** X-Stream-Protocol-Version of port-forwarding over a plain SPDY upgrade. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export const PORT_FORWARD_PREFIX = '/portForward/';

/** `{namespace, pod}` of a portForward path, or undefined when it is malformed. */
export function podOfPortForwardPath(path: string): { namespace: string; pod: string } | undefined {
  const parts = path.slice(PORT_FORWARD_PREFIX.length).split('/');
  if (parts.length !== 2 || parts.some((p) => p === '')) return undefined;
  const [namespace, pod] = parts.map(decodeURIComponent) as [string, string];
  return { namespace, pod };
}

/** How the caller's connection is to carry SPDY; throws 400 when it asks for nothing we speak. */
export function portForwardTransport(req: IncomingMessage): 'websocket' | 'spdy' {
  const upgrade = upgradeProtocol(req);
  if (upgrade === 'websocket') {
    if (offeredSubprotocols(req).includes(PORT_FORWARD_TUNNEL)) return 'websocket';
    throw badRequest(`port-forwarding over a WebSocket needs the ${PORT_FORWARD_TUNNEL} subprotocol`);
  }
  if (upgrade === 'spdy/3.1') {
    if (offeredStreamProtocols(req).includes(PORT_FORWARD_PROTOCOL)) return 'spdy';
    throw badRequest(`port-forwarding over SPDY needs X-Stream-Protocol-Version ${PORT_FORWARD_PROTOCOL}`);
  }
  throw badRequest(`port-forwarding needs an upgrade to a WebSocket (${PORT_FORWARD_TUNNEL}) or to SPDY/3.1`);
}

interface StreamPair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
}

/**
 * Serves one port-forward session on `transport` (the SPDY byte stream) for the pod behind
 * `ports`. Returns the session; it closes with the transport.
 */
export function runPortForward(transport: Duplex, ports: PodPorts, podName: string, logger?: Logger): SpdySession {
  const pairs = new Map<string, StreamPair>();
  const onStream = (stream: SpdyStream) => {
    const type = stream.headers['streamtype'];
    const requestId = stream.headers['requestid'] ?? '';
    const port = Number(stream.headers['port']);
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) {
      logger?.debug({ headers: stream.headers }, 'port-forward stream refused');
      stream.reset(RstStatus.PROTOCOL_ERROR);
      return;
    }
    void stream.reply();
    let pair = pairs.get(requestId);
    if (!pair) pairs.set(requestId, (pair = { port }));
    if (pair[type]) {
      stream.reset(RstStatus.PROTOCOL_ERROR);
      return;
    }
    pair[type] = stream;
    if (pair.error && pair.data) {
      pairs.delete(requestId);
      void forward(pair.port, pair.error, pair.data);
    }
  };

  const forward = async (port: number, error: SpdyStream, data: SpdyStream): Promise<void> => {
    // The client writes nothing on the error stream (it closes its side at once).
    error.resume();
    let connection: Duplex;
    try {
      connection = await ports.connect(port);
    } catch (err) {
      error.end(`error forwarding port ${port} to pod ${podName}: ${(err as Error).message}`);
      data.end();
      return;
    }
    const done = new Promise<void>((resolve) => {
      let open = 2;
      const half = () => {
        if (--open === 0) resolve();
      };
      connection.once('end', half);
      data.once('end', half);
      connection.once('close', resolve);
      data.once('close', resolve);
    });
    data.pipe(connection);
    connection.pipe(data);
    connection.on('error', (err: Error) => logger?.debug({ err, port }, 'port-forward connection failed'));
    data.on('error', () => connection.destroy());
    await done;
    connection.destroy();
    if (!data.writableEnded) data.end();
    error.end();
  };

  transport.once('close', () => ports.close?.());
  return new SpdySession(transport, onStream, (err) => logger?.debug({ err }, 'port-forward session failed'));
}
