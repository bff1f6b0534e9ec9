// A work queue of keys in the manner of client-go's: a key is queued at most once however often
// it is added, is handed to one worker at a time (re-adds while it is processed are kept for
// after), and failed keys come back with per-key exponential back-off. Controllers are
// `reconcile(key)` functions run by `runWorkers`. The keys wait in a deque: Array#shift moves
// every element of a large array, which made a relist of 20,000 pods cost 0.3 s of one thread in
// taking keys alone (50,000: 2 s, long enough to miss a leader renewal).

import Denque from 'denque';
import { yieldAfterLongStretch } from './delay.js';

export interface WorkQueueOptions {
  /** First retry delay of a failing key (client-go: 5 ms). */
  baseDelayMs?: number;
  /** Longest retry delay (client-go: 1000 s; controllers here prefer a shorter cap). */
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  private readonly queue = new Denque<K>();
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, NodeJS.Timeout>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds the key after `delayMs` (an earlier pending add-after of the same key wins). */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, timer);
  }

  /** Re-queues a key that failed, each failure doubling its delay. */
  addRateLimited(key: K): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs));
  }

  /** Clears a key's failure history after it succeeded. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key processed; if it was added meanwhile it goes back in the queue. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

/**
 * Runs `workers` loops taking keys from the queue and reconciling them until `signal` aborts.
 * A reconcile that throws is retried with back-off; one that returns `{ requeueAfterMs }` is
 * looked at again later (e.g. to wait for minReadySeconds).
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  workers: number,
  reconcile: (key: K) => Promise<void | { requeueAfterMs?: number }>,
  signal: AbortSignal,
  onError: (key: K, err: unknown) => void = () => {},
): Promise<void> {
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  const loop = async () => {
    while (!signal.aborted) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        onError(key, err);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
      await yieldAfterLongStretch();
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
