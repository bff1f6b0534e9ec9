// `kubectl logs` for the agent's endpoint: the container's json-file log read back through
// Docker, demultiplexed, with the PodLogOptions the kubelet honours (follow, tailLines,
// sinceSeconds/sinceTime, timestamps, previous, limitBytes).

import { PassThrough, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { ContainerLogOptions, ContainerLogSource } from '../interfaces.js';
import { DockerDemux, demuxBuffer } from './demux.js';
import type { Engine } from './engine.js';

/** Finds the Docker container behind a pod's container; throws a StatusError when there is none. */
export type ContainerLocator = (namespace: string, pod: string, container: string, previous: boolean) => { id: string; tty: boolean };

/** Passes the first `limit` bytes, then ends. */
class ByteLimit extends Transform {
  private left: number;
  constructor(
    limit: number,
    private readonly onLimit: () => void,
  ) {
    super();
    this.left = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.left <= 0) return done();
    const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
    this.left -= part.length;
    this.push(part);
    if (this.left <= 0) {
      this.push(null);
      this.onLimit();
    }
    done();
  }
}

export function dockerLogOptions(options: ContainerLogOptions, nowMs = Date.now()): Record<string, unknown> {
  const query: Record<string, unknown> = {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps === true,
    tail: options.tailLines !== undefined && options.tailLines >= 0 ? String(options.tailLines) : 'all',
  };
  if (options.sinceTime) {
    const ms = Date.parse(options.sinceTime);
    if (!Number.isNaN(ms)) query['since'] = (ms / 1000).toFixed(3);
  } else if (options.sinceSeconds !== undefined && options.sinceSeconds > 0) {
    query['since'] = (nowMs / 1000 - options.sinceSeconds).toFixed(3);
  }
  return query;
}

export class DockerLogs implements ContainerLogSource {
  constructor(
    private readonly engine: Engine,
    private readonly locate: ContainerLocator,
  ) {}

  async logs(namespace: string, pod: string, container: string, options: ContainerLogOptions, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    const target = this.locate(namespace, pod, container, options.previous === true);
    const query = dockerLogOptions(options);
    const out = new PassThrough();
    let sink: NodeJS.WritableStream = out;
    let source: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    const stop = () => {
      source?.destroy?.();
      if (!out.writableEnded) out.end();
    };
    if (options.limitBytes !== undefined && options.limitBytes > 0) {
      const limited = new ByteLimit(options.limitBytes, stop);
      limited.pipe(out);
      sink = limited;
    }
    if (options.follow) {
      source = (await this.engine.call('container_logs', (d) =>
        d.getContainer(target.id).logs({ ...query, follow: true, abortSignal: signal } as { follow: true }),
      )) as NodeJS.ReadableStream & { destroy?: () => void };
      const demux = target.tty ? new PassThrough() : new DockerDemux();
      source.pipe(demux).pipe(sink);
      source.on('error', stop);
      signal.addEventListener('abort', stop, { once: true });
      out.on('close', () => source?.destroy?.());
    } else {
      const buffer = (await this.engine.call('container_logs', (d) => d.getContainer(target.id).logs({ ...query, follow: false } as { follow: false }))) as unknown;
      const bytes = Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer));
      sink.end(target.tty ? bytes : demuxBuffer(bytes));
    }
    return out;
  }
}
