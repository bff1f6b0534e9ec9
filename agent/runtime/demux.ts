// Docker multiplexes stdout and stderr of a container without a TTY into one stream of frames:
// an 8-byte header (stream type, three zero bytes, big-endian payload length) and the payload.
// Reading such a stream as text shows "garbage" at the start of every chunk, so every log and
// exec stream goes through this demultiplexer (frames may be split across chunks).

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

const HEADER = 8;

/** Which stream a payload came from: 1 stdout, 2 stderr (0, stdin, when Docker echoes it). */
export type DockerStreamType = 0 | 1 | 2;

/**
 * Splits Docker's framed stream into payloads with their stream type, frames split across
 * chunks included. A stream that turns out not to be framed (a TTY) is passed on as stdout.
 */
export class DockerFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, emit: (type: DockerStreamType, payload: Buffer) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= HEADER) {
      const type = this.pending[0];
      if (type !== 0 && type !== 1 && type !== 2) {
        // Not framed after all (a TTY container): pass everything through unchanged.
        emit(1, this.pending);
        this.pending = Buffer.alloc(0);
        break;
      }
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + length) break;
      emit(type, this.pending.subarray(HEADER, HEADER + length));
      this.pending = this.pending.subarray(HEADER + length);
    }
  }

  /** What is left at the end of the stream (a truncated frame), as stdout. */
  flush(emit: (type: DockerStreamType, payload: Buffer) => void): void {
    if (this.pending.length) emit(1, this.pending);
    this.pending = Buffer.alloc(0);
  }
}

/** A transform from Docker's framed stream to the payload bytes, stdout and stderr interleaved as stored. */
export class DockerDemux extends Transform {
  private readonly frames = new DockerFrameSplitter();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.frames.push(chunk, (_type, payload) => this.push(payload));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.frames.flush((_type, payload) => this.push(payload));
    done();
  }
}

/** Demultiplexes a whole framed buffer (what dockerode returns for non-following logs). */
export function demuxBuffer(buffer: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER <= buffer.length) {
    const type = buffer[offset];
    if (type !== 0 && type !== 1 && type !== 2) return offset === 0 ? buffer : Buffer.concat([...parts, buffer.subarray(offset)]);
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + HEADER, offset + HEADER + length));
    offset += HEADER + length;
  }
  if (offset < buffer.length) parts.push(buffer.subarray(offset));
  return Buffer.concat(parts);
}
