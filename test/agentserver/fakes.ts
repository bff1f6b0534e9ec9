// Stand-ins for the pod runtime's ContainerLogSource, ContainerStreamSource and
// ResourceUsageSource, so that the agent's endpoint and the API server's pods/log, pods/exec and
// metrics.k8s.io can be tested without Docker.

import { connect } from 'node:net';
import { Duplex, Readable } from 'node:stream';
import { badRequest, notFound } from '../../api/errors.js';
import type {
  ContainerLogOptions,
  ContainerLogSource,
  ContainerStreamSource,
  PodPorts,
  PodUsage,
  ProcessStreams,
  ResourceUsageSource,
  StreamOptions,
  StreamSession,
} from '../../agent/interfaces.js';

export interface LogCall {
  namespace: string;
  pod: string;
  container: string;
  options: ContainerLogOptions;
  signal: AbortSignal;
}

/**
 * Logs of pod `p`, container `c` are the lines `<c> line 1`, `<c> line 2`; with follow, a new
 * line every 20 ms until the signal aborts. Pod `missing` is not found; pod `waiting` has not
 * started.
 */
export class FakeLogSource implements ContainerLogSource {
  readonly calls: LogCall[] = [];

  async logs(namespace: string, pod: string, container: string, options: ContainerLogOptions, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    this.calls.push({ namespace, pod, container, options, signal });
    if (pod === 'missing') throw notFound({ group: '', resource: 'pods' }, pod);
    if (pod === 'waiting') throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
    const lines = [`${container} line 1\n`, `${container} line 2\n`];
    if (!options.follow) return Readable.from(lines);
    let n = 2;
    const stream = new Readable({ read() {} });
    for (const line of lines) stream.push(line);
    const timer = setInterval(() => stream.push(`${container} line ${++n}\n`), 20);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      stream.push(null);
    }, { once: true });
    return stream;
  }
}

export class FakeUsageSource implements ResourceUsageSource {
  constructor(public pods: PodUsage[] = []) {}

  async podUsage(): Promise<PodUsage[]> {
    return this.pods;
  }
}

/** One frame of Docker's multiplexed stream (1 stdout, 2 stderr). */
export function dockerFrame(stream: 1 | 2, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** `cat`: every write comes back framed on stdout; the end of input ends it. */
class EchoProcess extends Duplex {
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.push(dockerFrame(1, chunk));
    done();
  }
  override _final(done: (error?: Error | null) => void): void {
    this.push(null);
    done();
  }
  override _read(): void {}
}

/** `flood N`: N bytes of stdout in 64 KiB frames, as fast as the reader takes them, then a line on stderr. */
class FloodProcess extends Duplex {
  private sent = 0;
  constructor(private readonly total: number) {
    super();
  }
  override _read(): void {
    while (this.sent < this.total) {
      const n = Math.min(64 * 1024, this.total - this.sent);
      this.sent += n;
      if (!this.push(dockerFrame(1, Buffer.alloc(n, 'x')))) return;
    }
    this.push(dockerFrame(2, 'flood done\n'));
    this.push(null);
  }
  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    done();
  }
}

/**
 * exec of `cat` (exit 0) and `flood N` (exit 7) in any container of any pod but `missing`; the
 * process connects 50 ms after `start`, so that early client messages must wait for it. Resizes
 * are recorded.
 */
export class FakeStreamSource implements ContainerStreamSource {
  readonly resizes: { width: number; height: number }[] = [];
  readonly commands: { command: string[]; options: StreamOptions }[] = [];

  async exec(_namespace: string, pod: string, container: string, command: string[], options: StreamOptions): Promise<StreamSession> {
    if (pod === 'missing') throw notFound({ group: '', resource: 'pods' }, pod);
    if (command[0] !== 'cat' && command[0] !== 'flood') throw badRequest(`container "${container}" in pod "${pod}" is not running`);
    this.commands.push({ command, options });
    return {
      framed: true,
      start: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return (command[0] === 'cat' ? new EchoProcess() : new FloodProcess(Number(command[1]))) as ProcessStreams;
      },
      resize: async (width, height) => {
        this.resizes.push({ width, height });
      },
      exitCode: async () => (command[0] === 'cat' ? 0 : 7),
    };
  }

  async attach(namespace: string, pod: string, container: string, options: StreamOptions): Promise<StreamSession> {
    return this.exec(namespace, pod, container, ['cat'], options);
  }

  /** Port 80 of any pod but `missing` is `echoPort` on loopback; other ports refuse. */
  echoPort = 0;

  async portForward(_namespace: string, pod: string): Promise<PodPorts> {
    if (pod === 'missing') throw notFound({ group: '', resource: 'pods' }, pod);
    return {
      connect: (port) =>
        new Promise<Duplex>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port: port === 80 ? this.echoPort : 1 });
          socket.once('connect', () => resolve(socket));
          socket.once('error', reject);
        }),
    };
  }
}
