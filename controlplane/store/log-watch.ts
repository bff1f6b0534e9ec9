// A watch over a revision log whose only writer lives in this process: first the history after
// the requested revision, read from the log in batches, then the live writes, which the store
// hands over right after each commit. Subscribing and fixing the end of the history happen in
// one synchronous step, so every revision lands either in the replay (<= `replayThrough`) or in
// the live queue (> `replayThrough`): no gap, no duplicate, in revision order.

import { EventQueue } from './event-queue.js';
import { CompactedError, type StoreEvent } from './store.js';

/** What a LogWatch needs from its store. Every call is synchronous. */
export interface WatchableLog {
  /** Events under `prefix` with `after` < revision <= `through`, oldest first, at most `limit`. */
  readHistory(prefix: string, after: number, through: number, limit: number): StoreEvent[];
  currentRevision(): number;
  compactedRevision(): number;
  /** Sends every future write to `watcher.offer` until the returned function is called. */
  subscribe(watcher: LogWatch): () => void;
  /** The error a watch on a closed log fails with, or undefined while the log is open. */
  closedError(): Error | undefined;
}

export interface LogWatchOptions {
  /** Most live events that may wait for the consumer (see EventQueue). */
  bufferLimit: number;
  /** History rows read per batch while catching up. */
  replayBatch: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class LogWatch implements AsyncIterableIterator<StoreEvent> {
  private readonly live: EventQueue<StoreEvent>;
  private batch: StoreEvent[] = [];
  private batchIndex = 0;
  /** Revision of the last history row read; the next batch starts after it. */
  private readPosition: number;
  /** The revision current when the watch subscribed: history ends here, live events start after. */
  private replayThrough = 0;
  private replaying = true;
  private historyExhausted = false;
  private stopped = false;
  private startError: Error | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly onAbort = (): void => this.stop();

  constructor(
    readonly prefix: string,
    readonly afterRevision: number,
    private readonly signal: AbortSignal,
    private readonly log: WatchableLog,
    private readonly options: LogWatchOptions,
  ) {
    this.readPosition = afterRevision;
    this.live = new EventQueue(options.bufferLimit);
    this.start();
  }

  private start(): void {
    const closed = this.log.closedError();
    const compacted = closed ? 0 : this.log.compactedRevision();
    if (closed) this.startError = closed;
    else if (this.afterRevision < compacted) this.startError = new CompactedError(this.afterRevision, compacted);
    if (this.startError || this.signal.aborted) {
      this.replaying = false;
      this.live.end();
      return;
    }
    // One synchronous step: no write can commit between these two lines.
    this.replayThrough = this.log.currentRevision();
    this.unsubscribe = this.log.subscribe(this);
    this.historyExhausted = this.afterRevision >= this.replayThrough;
    this.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Called by the store after each commit with every event of the write, in order. */
  offer(event: StoreEvent): void {
    if (!event.kv.key.startsWith(this.prefix) || event.kv.modRevision <= this.afterRevision) return;
    if (!this.live.push(event)) this.detach();
  }

  /** Ends the watch with `error` after the events already queued (the store is closing). */
  fail(error: Error): void {
    this.detach();
    this.live.end(error);
  }

  async next(): Promise<IteratorResult<StoreEvent, undefined>> {
    if (this.startError) {
      const error = this.startError;
      this.startError = undefined;
      this.stopped = true;
      throw error;
    }
    while (this.replaying && !this.stopped) {
      const event = this.batch[this.batchIndex];
      if (event !== undefined) {
        this.batchIndex += 1;
        return { done: false, value: event };
      }
      if (this.historyExhausted) {
        this.replaying = false;
        this.batch = [];
      } else {
        this.readBatch();
      }
    }
    if (this.stopped) return DONE;
    const event = await this.live.take();
    return event === undefined ? DONE : { done: false, value: event };
  }

  async return(): Promise<IteratorResult<StoreEvent, undefined>> {
    this.stop();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private readBatch(): void {
    const closed = this.log.closedError();
    if (closed) return this.failNow(closed);
    // Compaction removes rows at or below its revision; if that reaches past what we have read,
    // the next rows may be gone and replaying on would skip events silently.
    const compacted = this.log.compactedRevision();
    if (compacted > this.readPosition) return this.failNow(new CompactedError(this.readPosition, compacted));
    const { replayBatch } = this.options;
    this.batch = this.log.readHistory(this.prefix, this.readPosition, this.replayThrough, replayBatch);
    this.batchIndex = 0;
    const last = this.batch[this.batch.length - 1];
    if (last !== undefined) this.readPosition = last.kv.modRevision;
    if (this.batch.length < replayBatch) this.historyExhausted = true;
  }

  private failNow(error: Error): never {
    this.stop();
    throw error;
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.batch = [];
    this.detach();
    this.live.discard();
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
