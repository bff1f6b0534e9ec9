// The events waiting for one watcher. Writers push and never wait; the watcher takes at its own
// pace. The queue is bounded: a watcher that falls `limit` events behind is ended with
// WatchOverflowError instead of letting memory grow without bound (the same choice kine makes
// for a subscriber whose channel is full, and kube-apiserver's cacher for a blocked watcher).
// The consumer still receives everything queued before the overflow, so it can watch again
// from the revision of the last event it saw.

import { StoreError } from './store.js';

export class WatchOverflowError extends StoreError {
  constructor(readonly limit: number) {
    super(`watcher fell more than ${limit} events behind and was stopped; watch again from the last revision received`);
    this.name = 'WatchOverflowError';
  }
}

interface Waiter<T> {
  resolve: (item: T | undefined) => void;
  reject: (error: Error) => void;
}

export class EventQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private waiters: Waiter<T>[] = [];
  /** Set once the queue accepts no more items; `error` is handed to the consumer once, after the items. */
  private ended: { error: Error | undefined } | undefined;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`queue limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** Queues an item; false if the queue has ended, or ends now because it is full. */
  push(item: T): boolean {
    if (this.ended) return false;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(item);
      return true;
    }
    if (this.size >= this.limit) {
      this.end(new WatchOverflowError(this.limit));
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Accepts no more items; the consumer drains what is queued, then gets `error` (or the end). */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = { error };
    for (const waiter of this.waiters.splice(0)) this.settleEnded(waiter);
  }

  /** Ends the queue and drops what is queued: the consumer has gone away. */
  discard(): void {
    this.items = [];
    this.head = 0;
    if (this.ended) this.ended.error = undefined;
    this.end();
  }

  /** The next item; undefined once the queue has ended and is drained; rejects with the end's error once. */
  take(): Promise<T | undefined> {
    if (this.size > 0) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head += 1;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve(item);
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.ended) this.settleEnded(waiter);
      else this.waiters.push(waiter);
    });
  }

  private settleEnded(waiter: Waiter<T>): void {
    const error = this.ended?.error;
    if (error && this.ended) {
      this.ended.error = undefined;
      waiter.reject(error);
    } else {
      waiter.resolve(undefined);
    }
  }
}
