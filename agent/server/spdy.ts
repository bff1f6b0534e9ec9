// The server side of SPDY/3, as much as `kubectl port-forward` uses: the client opens streams
// (SYN_STREAM with a few headers), the server accepts each (SYN_REPLY), and bytes flow as DATA
// frames with FIN for each side's end; RST_STREAM aborts a stream, PING is echoed, GOAWAY ends
// the session. Header blocks are zlib-compressed with SPDY/3's dictionary, in one compression
// context per direction for the whole session.
//
// Hand-written because no library serves this: spdy-transport (whose dictionary this uses)
// implements SPDY for HTTP and refuses streams without `:method` and `:path`, which Kubernetes'
// streams never carry. Like moby/spdystream, the Go library kubectl and the kubelet use, it does
// no flow control: WINDOW_UPDATE and SETTINGS are read and ignored. Receive backpressure pauses
// the whole session while any stream's reader is full.

import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, createInflate } from 'node:zlib';
import type { Deflate, Inflate } from 'node:zlib';

const SPDY_VERSION = 3;
const HEADER_BYTES = 8;
const MAX_DATA_FRAME = 64 * 1024;

export const FrameType = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;

let dictionary: Buffer | undefined;

/**
 * SPDY/3's header compression dictionary (draft 3, section 2.6.10.1), read from spdy-transport
 * on first use: only that file, as the rest of the library (7 MB of an agent's memory) is unused.
 */
export function spdy3Dictionary(): Buffer {
  const file = 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js';
  return (dictionary ??= (createRequire(import.meta.url)(file) as Record<number, Buffer>)[SPDY_VERSION]!);
}

export type Frame =
  | { control: true; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; payload: Buffer };

/** Cuts a byte stream into frames; partial frames wait for their rest. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < HEADER_BYTES + length) break;
      const flags = this.pending[4]!;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      if (this.pending[0]! & 0x80) {
        const version = this.pending.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ control: true, type: this.pending.readUInt16BE(2), flags, payload });
      } else {
        frames.push({ control: false, streamId: this.pending.readUInt32BE(0) & 0x7fffffff, flags, payload });
      }
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame[4] = flags;
  frame.writeUIntBE(payload.length, 5, 3);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

export function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32BE(streamId & 0x7fffffff, 0);
  frame[4] = flags;
  frame.writeUIntBE(payload.length, 5, 3);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

/** An uncompressed SPDY/3 header block: lower-case names, values joined by NUL when repeated. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(Object.keys(headers).length);
  parts.push(count);
  for (const [name, value] of Object.entries(headers)) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text);
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  const count = block.readUInt32BE(0);
  let offset = 4;
  for (let i = 0; i < count; i++) {
    const nameLength = block.readUInt32BE(offset);
    const name = block.toString('utf8', offset + 4, offset + 4 + nameLength).toLowerCase();
    offset += 4 + nameLength;
    const valueLength = block.readUInt32BE(offset);
    headers[name] = block.toString('utf8', offset + 4, offset + 4 + valueLength);
    offset += 4 + valueLength;
  }
  if (offset > block.length) throw new RangeError('header block overruns its frame');
  return headers;
}

/** One direction's compression context: each call is one header block, sync-flushed. */
export class HeaderCodec {
  private readonly zlib: Deflate | Inflate;
  private tail = Promise.resolve();

  constructor(direction: 'compress' | 'decompress') {
    const options = { dictionary: spdy3Dictionary() };
    this.zlib = direction === 'compress' ? createDeflate(options) : createInflate(options);
    this.zlib.on('error', () => undefined); // reported to the caller of the failing block
  }

  /** Runs `input` through the context; blocks complete in call order. */
  process(input: Buffer): Promise<Buffer> {
    const result = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const onData = (chunk: Buffer) => chunks.push(chunk);
          const onError = (err: Error) => {
            this.zlib.off('data', onData);
            reject(err);
          };
          this.zlib.on('data', onData);
          this.zlib.once('error', onError);
          this.zlib.write(input);
          this.zlib.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            this.zlib.off('data', onData);
            this.zlib.off('error', onError);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  close(): void {
    this.zlib.destroy();
  }
}

/** A stream the client opened: a Duplex of its DATA, ending with the client's FIN. */
export class SpdyStream extends Duplex {
  private replied: Promise<void> | undefined;
  /** FINs sent and received: once both, the session forgets the stream. */
  private fins = 0;

  constructor(
    readonly id: number,
    readonly headers: Record<string, string>,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Accepts the stream (SYN_REPLY); the client waits for it before it goes on. */
  reply(): Promise<void> {
    return (this.replied ??= this.session.sendReply(this.id));
  }

  /** Aborts the stream (RST_STREAM). */
  reset(status: number = RstStatus.CANCEL): void {
    this.session.sendReset(this.id, status);
    this.destroy();
  }

  /** From the session: a DATA frame's payload, and whether it carried FIN. */
  received(payload: Buffer, fin: boolean): void {
    if (payload.length > 0 && !this.push(payload)) this.session.pauseReading(this.id);
    if (fin) {
      this.push(null);
      this.finished();
    }
  }

  private finished(): void {
    if (++this.fins === 2) this.session.forget(this.id);
  }

  override _read(): void {
    this.session.resumeReading(this.id);
  }

  // Data goes out after the SYN_REPLY (replying is asynchronous: its headers are compressed).
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    void this.reply().then(() => this.session.sendData(this.id, chunk, false, done), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    void this.reply().then(
      () =>
        this.session.sendData(this.id, Buffer.alloc(0), true, (err) => {
          if (!err) this.finished();
          done(err);
        }),
      done,
    );
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.session.forget(this.id);
    done(error);
  }
}

/**
 * A server session over `transport` (a socket after an `Upgrade: SPDY/3.1`, or a WebSocket's
 * byte stream). `onStream` gets each stream the client opens; it must reply or reset it.
 */
export class SpdySession {
  private readonly reader = new FrameReader();
  private readonly compress = new HeaderCodec('compress');
  private readonly decompress = new HeaderCodec('decompress');
  private readonly streams = new Map<number, SpdyStream>();
  private work = Promise.resolve();
  private ended = false;
  /** Streams whose readers are full: the transport is paused while there is any. */
  private readonly full = new Set<number>();

  constructor(
    private readonly transport: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    transport.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const frame of frames) this.work = this.work.then(() => this.handle(frame)).catch((err: Error) => this.fail(err));
    });
    transport.once('close', () => this.close());
    transport.once('end', () => this.close());
    transport.on('error', (err: Error) => this.fail(err));
  }

  get closed(): boolean {
    return this.ended;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.streams.clear();
    this.compress.close();
    this.decompress.close();
    this.transport.destroy();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.onError(err);
    this.close();
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (stream) stream.received(frame.payload, (frame.flags & FLAG_FIN) !== 0);
      else this.sendReset(frame.streamId, RstStatus.INVALID_STREAM);
      return;
    }
    const { type, payload } = frame;
    switch (type) {
      case FrameType.SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        // stream id (4), associated stream id (4), priority and slot (2), then the header block.
        const headers = decodeHeaderBlock(await this.decompress.process(payload.subarray(10)));
        if (id === 0 || id % 2 === 0 || this.streams.has(id)) {
          this.sendReset(id, RstStatus.PROTOCOL_ERROR);
          return;
        }
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        if ((frame.flags & FLAG_FIN) !== 0) stream.received(Buffer.alloc(0), true);
        this.onStream(stream);
        return;
      }
      case FrameType.HEADERS:
        // Decoded to keep the compression context in step; Kubernetes sends none after SYN_STREAM.
        await this.decompress.process(payload.subarray(4));
        return;
      case FrameType.RST_STREAM:
        this.streams.get(payload.readUInt32BE(0) & 0x7fffffff)?.destroy();
        return;
      case FrameType.PING:
        // Ids from the client are odd; echo them. An even id would be our own ping's answer.
        if (payload.readUInt32BE(0) % 2 === 1) this.write(controlFrame(FrameType.PING, 0, payload));
        return;
      case FrameType.GOAWAY:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, SYN_REPLY (never sent to a server): nothing to do.
        return;
    }
  }

  // --- from streams ---

  async sendReply(id: number): Promise<void> {
    const block = await this.compress.process(encodeHeaderBlock({}));
    const payload = Buffer.allocUnsafe(4 + block.length);
    payload.writeUInt32BE(id, 0);
    block.copy(payload, 4);
    this.write(controlFrame(FrameType.SYN_REPLY, 0, payload));
  }

  sendReset(id: number, status: number): void {
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt32BE(id & 0x7fffffff, 0);
    payload.writeUInt32BE(status, 4);
    this.write(controlFrame(FrameType.RST_STREAM, 0, payload));
  }

  sendData(id: number, data: Buffer, fin: boolean, done: (error?: Error | null) => void): void {
    if (this.closed) return done(new Error('the SPDY session is closed'));
    if (data.length === 0 && !fin) return done();
    // At most MAX_DATA_FRAME per frame; FIN on the last (an empty frame for an empty end).
    let ok = true;
    let offset = 0;
    do {
      const part = data.subarray(offset, offset + MAX_DATA_FRAME);
      offset += part.length;
      ok = this.write(dataFrame(id, fin && offset >= data.length ? FLAG_FIN : 0, part));
    } while (offset < data.length);
    if (ok) done();
    else this.transport.once('drain', () => done());
  }

  forget(id: number): void {
    this.streams.delete(id);
    this.resumeReading(id);
  }

  /** A stream's reader is full: stop reading the transport until it asks for more. */
  pauseReading(id: number): void {
    this.full.add(id);
    this.transport.pause();
  }

  resumeReading(id: number): void {
    if (!this.full.delete(id) || this.full.size > 0) return;
    this.transport.resume();
  }

  private write(frame: Buffer): boolean {
    if (this.closed || this.transport.destroyed) return true;
    return this.transport.write(frame);
  }
}
