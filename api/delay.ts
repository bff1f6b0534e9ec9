// Waiting inside loops that must stop promptly: resolves after `ms`, or at once when `signal`
// aborts (never rejects, so loops check `signal.aborted` themselves). Node's timers/promises
// rejects on abort, which turns every shutdown into an error path.

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
