// kubelet's /exec/{ns}/{pod}/{container} and /attach/{ns}/{pod}/{container}, which the API
// server's pods/exec and pods/attach splice kubectl to: a WebSocket speaking Kubernetes' channel
// protocol (v5.channel.k8s.io, or v4 for clients such as @kubernetes/client-node). Every binary
// message starts with its channel byte:
//
//   0 stdin (client → process)     1 stdout       2 stderr      (process → client)
//   3 error: the outcome as a Status, sent once before the server closes
//   4 resize: {"Width":…,"Height":…} for a TTY
//   255 close (v5 only): [255, 0] ends the process's stdin, as EOF does for `kubectl exec -i`
//
// The first message is an empty one on the lowest channel the client reads, telling it the
// process is connected. SPDY, the older transport (kubectl before 1.30, and its fallback since),
// is served too (spdy-exec.ts).
//
// /portForward/{ns}/{pod} is served here too (portforward.ts): SPDY, tunnelled in a WebSocket or
// on the upgraded connection itself.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type * as Ws from 'ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { badRequest, notFound } from '../../api/errors.js';
import { boolParam } from '../../api/query.js';
import { offeredStreamProtocols, offeredSubprotocols, spdySwitchingProtocols, upgradeProtocol } from '../../api/upgrade.js';
import type { ContainerStreamSource, ProcessStreams, StreamOptions, StreamSession } from '../interfaces.js';
import { applyResize, pumpProcess } from './process-pump.js';
import type { ClientEnd } from './process-pump.js';
import { podOfPortForwardPath, PORT_FORWARD_PREFIX, PORT_FORWARD_PROTOCOL, PORT_FORWARD_TUNNEL, portForwardTransport, runPortForward } from './portforward.js';
import type { SpdySession } from './spdy.js';
import { runSpdyExec, SPDY_EXEC_PROTOCOL } from './spdy-exec.js';

export const STREAM_PATHS = ['/exec/', '/attach/', PORT_FORWARD_PREFIX] as const;

/** The channel protocols served, best first. */
export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** What the port-forward tunnel's subprotocol is called while `ws` parses the request. */
const TUNNEL_ALIAS = 'spdy-portforward-tunnel';

interface StreamRequest {
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  options: StreamOptions;
}

/** The request a path and query make, with kubelet's checks; undefined when the path is not one of ours. */
export function parseStreamRequest(path: string, query: URLSearchParams): StreamRequest | undefined {
  const prefix = ['/exec/', '/attach/'].find((p) => path.startsWith(p));
  if (!prefix) return undefined;
  const parts = path.slice(prefix.length).split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [namespace, pod, container] = parts.map(decodeURIComponent) as [string, string, string];
  const kind = prefix === '/exec/' ? 'exec' : 'attach';
  const flag = (name: string) => boolParam(query, name) === true;
  const options: StreamOptions = { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr'), tty: flag('tty') };
  if (!options.stdin && !options.stdout && !options.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  // With a terminal, stderr is the terminal too (kubectl asks for stderr=false with -t).
  if (options.tty) options.stderr = false;
  const command = query.getAll('command');
  if (kind === 'exec' && command.length === 0) throw badRequest('you must specify at least one command for the container');
  return { kind, namespace, pod, container, command, options };
}

function message(channel: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

type WsModule = typeof Ws;

export class StreamServer {
  /** `ws`, loaded with the first session: an idle agent does not carry it (~5 MB). */
  private ws: Promise<{ module: WsModule; server: WebSocketServer }> | undefined;
  private readonly sessions = new Set<WebSocket>();
  private readonly spdySessions = new Set<SpdySession>();

  constructor(
    private readonly source: ContainerStreamSource,
    private readonly logger?: Logger,
  ) {}

  private websockets(): Promise<{ module: WsModule; server: WebSocketServer }> {
    return (this.ws ??= import('ws').then((module) => ({
      module,
      server: new module.WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        maxPayload: 16 << 20,
        // The protocol this agent speaks on the path, among those offered (serve checked there is one).
        handleProtocols: (offered, req) => {
          if (req.url?.startsWith(PORT_FORWARD_PREFIX)) return offered.has(TUNNEL_ALIAS) ? PORT_FORWARD_TUNNEL : false;
          return CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false;
        },
      }),
    })));
  }

  /**
   * Prepares the session and names its transport (a WebSocket subprotocol, or SPDY); throws a
   * StatusError for the caller to write when it cannot run.
   */
  async prepare(req: IncomingMessage, request: StreamRequest): Promise<{ session: StreamSession; transport: 'websocket' | 'spdy'; protocol: string }> {
    const upgrade = upgradeProtocol(req);
    let protocol: string;
    if (upgrade === 'websocket') {
      const offered = CHANNEL_PROTOCOLS.find((p) => offeredSubprotocols(req).includes(p));
      if (!offered) throw badRequest(`none of the offered WebSocket protocols is served; the agent speaks ${CHANNEL_PROTOCOLS.join(', ')}`);
      protocol = offered;
    } else if (upgrade === 'spdy/3.1') {
      if (!offeredStreamProtocols(req).includes(SPDY_EXEC_PROTOCOL)) throw badRequest(`${request.kind} over SPDY needs X-Stream-Protocol-Version ${SPDY_EXEC_PROTOCOL}`);
      protocol = SPDY_EXEC_PROTOCOL;
    } else {
      throw badRequest(`${request.kind} needs an upgrade to a WebSocket (${CHANNEL_PROTOCOLS.join(', ')}) or to SPDY/3.1`);
    }
    const { namespace, pod, container, command, options } = request;
    const session =
      request.kind === 'exec'
        ? await this.source.exec(namespace, pod, container, command, options)
        : await this.source.attach(namespace, pod, container, options);
    return { session, transport: upgrade === 'websocket' ? 'websocket' : 'spdy', protocol };
  }

  /** Serves one upgrade request on `path`; throws a StatusError before switching protocols. */
  async serve(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): Promise<void> {
    if (path.startsWith(PORT_FORWARD_PREFIX)) return this.servePortForward(req, socket, head, path);
    const request = parseStreamRequest(path, query);
    if (!request) throw notFound({ group: '', resource: 'pods' }, path);
    const { session, transport, protocol } = await this.prepare(req, request);
    const failed = (err: unknown) => this.logger?.warn({ err, pod: `${request.namespace}/${request.pod}`, container: request.container }, `${request.kind} session failed`);
    if (transport === 'spdy') {
      socket.write(spdySwitchingProtocols(SPDY_EXEC_PROTOCOL));
      if (head.length > 0) socket.unshift(head);
      this.track(runSpdyExec(socket, session, request.options, this.logger), socket);
      return;
    }
    const { server } = await this.websockets();
    server.handleUpgrade(req, socket, head, (ws) => {
      if (ws.protocol !== protocol) this.logger?.warn({ protocol: ws.protocol, expected: protocol }, 'unexpected WebSocket protocol');
      this.sessions.add(ws);
      ws.once('close', () => this.sessions.delete(ws));
      void this.run(ws, protocol, session, request.options).catch((err: unknown) => {
        failed(err);
        ws.terminate();
      });
    });
  }

  private async servePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): Promise<void> {
    const target = podOfPortForwardPath(path);
    if (!target) throw notFound({ group: '', resource: 'pods' }, path);
    const ports = await this.source.portForward(target.namespace, target.pod);
    const podName = `${target.namespace}/${target.pod}`;
    if (portForwardTransport(req) === 'spdy') {
      socket.write(spdySwitchingProtocols(PORT_FORWARD_PROTOCOL));
      if (head.length > 0) socket.unshift(head);
      this.track(runPortForward(socket, ports, podName, this.logger), socket);
      return;
    }
    // `ws` accepts only RFC 7230 tokens as subprotocols, which the tunnel's name ('/' and '+') is
    // not: it reads an alias, and handleProtocols answers with the real name.
    req.headers['sec-websocket-protocol'] = TUNNEL_ALIAS;
    const { module, server } = await this.websockets();
    server.handleUpgrade(req, socket, head, (ws) => {
      const transport = module.createWebSocketStream(ws);
      transport.on('error', () => transport.destroy());
      this.track(runPortForward(transport, ports, podName, this.logger), transport);
    });
  }

  /** Keeps a SPDY session for close() while its transport is open. */
  private track(session: SpdySession, transport: Duplex): void {
    this.spdySessions.add(session);
    transport.once('close', () => this.spdySessions.delete(session));
  }

  /** Ends every open session (the agent is stopping). */
  close(): void {
    for (const ws of this.sessions) ws.terminate();
    for (const session of this.spdySessions) session.close();
    void this.ws?.then(({ server }) => server.close());
  }

  private async run(ws: WebSocket, protocol: string, session: StreamSession, options: StreamOptions): Promise<void> {
    const send = (channel: number, payload: Buffer | string, done?: () => void) => {
      if (ws.readyState === ws.OPEN) ws.send(message(channel, payload), { binary: true }, done);
    };
    // Messages may arrive before the process is connected: keep them until it is.
    let io: ProcessStreams | undefined;
    const early: Buffer[] = [];
    let stdinClosed = false;
    const onClientMessage = (data: Buffer) => {
      if (data.length === 0) return;
      const payload = data.subarray(1);
      switch (data[0]) {
        case STDIN:
          if (options.stdin && !stdinClosed && payload.length > 0 && io && !io.write(payload)) {
            ws.pause();
            io.once('drain', () => ws.resume());
          }
          break;
        case RESIZE:
          if (options.tty) void applyResize(session, payload).catch((err: unknown) => this.logger?.debug({ err }, 'terminal resize failed'));
          break;
        case CLOSE:
          if (protocol === CHANNEL_PROTOCOLS[0] && payload[0] === STDIN && options.stdin && !stdinClosed) {
            stdinClosed = true;
            io?.end();
          }
          break;
        default:
          break;
      }
    };
    ws.on('message', (data: RawData) => {
      const buffer = asBuffer(data);
      if (io) onClientMessage(buffer);
      else early.push(buffer);
    });
    ws.once('close', () => io?.destroy());

    const client: ClientEnd = {
      open: () => ws.readyState === ws.OPEN,
      output: (stream, data, taken) => send(stream, data, taken),
      backlog: () => ws.bufferedAmount,
      finish: (status) => send(ERROR, JSON.stringify(status), () => ws.close(1000)),
    };
    await pumpProcess(session, options, client, (connected) => {
      io = connected;
      send(options.stdout ? STDOUT : options.stderr ? STDERR : ERROR, Buffer.alloc(0));
      for (const buffered of early.splice(0)) onClientMessage(buffered);
    });
  }
}
