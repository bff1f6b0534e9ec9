// What exec and attach do whatever carries them to the client (a WebSocket's channels or SPDY
// streams): connect the process, copy its output to the client with backpressure (the process
// waits while the client is far behind), and end with the outcome as a Status: Success, or
// Kubernetes' NonZeroExitCode with the exit code that kubectl exits with.

import { StatusError } from '../../api/errors.js';
import type { ProcessStreams, StreamOptions, StreamSession } from '../interfaces.js';
import { DockerFrameSplitter } from '../runtime/demux.js';

/** What the error channel or stream carries: a Status as kubelet writes it (no type meta). */
export interface ChannelStatus {
  metadata: object;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The Status of a finished process: Kubernetes' NonZeroExitCode for a failed command. */
export function outcomeStatus(exitCode: number | undefined): ChannelStatus {
  if (exitCode === undefined || exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** Output the client has not taken yet beyond this pauses the process's streams. */
export const HIGH_WATER_BYTES = 1 << 20;

/** The client's side of a session, as the transport offers it. */
export interface ClientEnd {
  /** False once the client is gone: nothing more is sent. */
  open(): boolean;
  /** Sends output (1 stdout, 2 stderr); `taken` runs once the transport took it. */
  output(stream: 1 | 2, data: Buffer, taken: () => void): void;
  /** Bytes sent but not yet taken by the transport. */
  backlog(): number;
  /** Sends the outcome and closes. */
  finish(status: ChannelStatus): void;
}

/**
 * Runs `session` for `client`: `connected` gets the process's streams once it runs (for stdin
 * and the client's other input); resolves when the process's output ended and the outcome is sent.
 */
export async function pumpProcess(session: StreamSession, options: StreamOptions, client: ClientEnd, connected: (io: ProcessStreams) => void): Promise<void> {
  let io: ProcessStreams;
  try {
    io = await session.start();
  } catch (err) {
    client.finish(err instanceof StatusError ? err.toStatus() : { metadata: {}, status: 'Failure', message: String(err), reason: 'InternalError', code: 500 });
    return;
  }
  if (!client.open()) {
    io.destroy();
    return;
  }
  connected(io);
  const frames = new DockerFrameSplitter();
  let paused = false;
  const taken = () => {
    if (paused && client.backlog() < HIGH_WATER_BYTES / 2) {
      paused = false;
      io.resume();
    }
  };
  const forward = (type: number, payload: Buffer) => {
    if (payload.length === 0 || !client.open()) return;
    const stream = type === 2 ? 2 : 1;
    if ((stream === 1 && !options.stdout) || (stream === 2 && !options.stderr)) return;
    client.output(stream, payload, taken);
    if (!paused && client.backlog() >= HIGH_WATER_BYTES) {
      paused = true;
      io.pause();
    }
  };
  await new Promise<void>((resolve) => {
    io.on('data', (chunk: Buffer) => (session.framed ? frames.push(chunk, forward) : forward(1, chunk)));
    io.once('end', resolve);
    io.once('close', resolve);
    io.once('error', resolve);
  });
  if (session.framed) frames.flush(forward);
  if (!client.open()) return;
  client.finish(outcomeStatus(await session.exitCode()));
}

/** Applies a TerminalSize message (`{"Width":…,"Height":…}`) to the session; bad ones are ignored. */
export async function applyResize(session: StreamSession, payload: Buffer): Promise<void> {
  const size = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
  if (typeof size.Width === 'number' && typeof size.Height === 'number' && size.Width > 0 && size.Height > 0) {
    await session.resize(size.Width, size.Height);
  }
}
