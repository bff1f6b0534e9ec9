// Waiting inside loops that must stop promptly: resolves after `ms`, or at once when `signal`
// aborts (never rejects, so loops check `signal.aborted` themselves). Node's timers/promises
// rejects on abort, which turns every shutdown into an error path.

import { setImmediate as nextTurn } from 'node:timers/promises';

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * When the current stretch of work began on this thread. Work that needs no I/O (reconciles of
 * a work queue's keys, an informer's first list) runs from item to item in microtasks, and timers
 * and I/O wait behind it: a relist that queued 20,000 keys kept a controller-manager's thread for
 * most of a second, and its Lease renewal missed the deadline. Loops over such work call this
 * after each item; once a stretch has run STRETCH_MS they give the event loop a turn, all of them
 * together, since all look at the same clock.
 */
let stretchStartedAt = performance.now();
const STRETCH_MS = 10;

export async function yieldAfterLongStretch(): Promise<void> {
  if (performance.now() - stretchStartedAt < STRETCH_MS) return;
  await nextTurn();
  stretchStartedAt = performance.now();
}
