// exec and attach over SPDY/3 (spdy.ts), remotecommand's protocol v4.channel.k8s.io as kubectl
// before 1.30 speaks it, kubectl 1.30+ when its WebSocket attempt fails, and client-go tools that
// still use SPDY executors. The client opens one stream per channel, each with a `streamType`
// header: `error` first, then `stdin`, `stdout`, `stderr` (not with a TTY) and `resize` (with
// one) as the request's options ask. Once all are there the process runs: stdin's FIN is the end
// of input, `resize` carries newline-separated TerminalSize JSON, and the outcome is written on
// `error` as a Status (Success too, as the kubelet does) before every stream is closed.

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { streamLines } from '../../api/lines.js';
import type { StreamOptions, StreamSession } from '../interfaces.js';
import { applyResize, pumpProcess } from './process-pump.js';
import type { ClientEnd } from './process-pump.js';
import { RstStatus, SpdySession } from './spdy.js';
import type { SpdyStream } from './spdy.js';

/** The one remotecommand version served over SPDY (v1–v3 word their errors differently). */
export const SPDY_EXEC_PROTOCOL = 'v4.channel.k8s.io';

/** How long the client has to open every stream it asked for (the kubelet's streamCreationTimeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

function expectedStreams(options: StreamOptions): Set<string> {
  const types = new Set(['error']);
  if (options.stdin) types.add('stdin');
  if (options.stdout) types.add('stdout');
  if (options.stderr && !options.tty) types.add('stderr');
  if (options.tty) types.add('resize');
  return types;
}

/** Serves one exec or attach on `transport` (the connection after the 101). */
export function runSpdyExec(transport: Duplex, session: StreamSession, options: StreamOptions, logger?: Logger): SpdySession {
  const expected = expectedStreams(options);
  const streams = new Map<string, SpdyStream>();
  const onStream = (stream: SpdyStream) => {
    const type = stream.headers['streamtype'] ?? '';
    if (!expected.has(type) || streams.has(type)) {
      stream.reset(RstStatus.PROTOCOL_ERROR);
      return;
    }
    void stream.reply();
    streams.set(type, stream);
    if (streams.size === expected.size) {
      clearTimeout(timer);
      void run().catch((err: unknown) => {
        logger?.warn({ err }, 'exec session over SPDY failed');
        spdy.close();
      });
    }
  };
  const spdy = new SpdySession(transport, onStream, (err) => logger?.debug({ err }, 'exec session over SPDY broke'));
  const timer = setTimeout(() => spdy.close(), STREAM_CREATION_TIMEOUT_MS);
  transport.once('close', () => clearTimeout(timer));

  const run = async () => {
    const error = streams.get('error')!;
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr');
    // The client writes nothing on the error stream; it closes its side.
    error.resume();
    const client: ClientEnd = {
      open: () => !spdy.closed,
      output: (stream, data, taken) => {
        const target = stream === 2 ? stderr : stdout;
        if (target) target.write(data, () => taken());
        else taken();
      },
      backlog: () => (stdout?.writableLength ?? 0) + (stderr?.writableLength ?? 0),
      finish: (status) => {
        error.end(JSON.stringify(status));
        stdout?.end();
        stderr?.end();
      },
    };
    await pumpProcess(session, options, client, (io) => {
      const stdin = streams.get('stdin');
      if (stdin) stdin.pipe(io);
      const resize = streams.get('resize');
      if (resize) {
        // Read until the stream goes (with the session, which may end it abruptly).
        void (async () => {
          for await (const line of streamLines(resize)) {
            if (line.trim()) await applyResize(session, Buffer.from(line)).catch((err: unknown) => logger?.debug({ err }, 'terminal resize failed'));
          }
        })().catch(() => undefined);
      }
    });
  };
  return spdy;
}
