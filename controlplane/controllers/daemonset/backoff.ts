// Back-off for replacing failed daemon pods, per DaemonSet and node: a node whose agent keeps
// rejecting the pod would otherwise make the controller create and delete pods in a hot loop.
// Kubernetes starts at 1 s and doubles up to 15 min; a node quiet for twice the cap starts over.

export const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
export const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000;

interface Entry {
  delayMs: number;
  lastMs: number;
}

export class FailedPodBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs = FAILED_POD_BACKOFF_INITIAL_MS,
    private readonly maxMs = FAILED_POD_BACKOFF_MAX_MS,
  ) {}

  /** How long until the next replacement on this key may happen (0: now). */
  remaining(key: string, nowMs: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, e.lastMs + e.delayMs - nowMs);
  }

  /** Records a replacement now, doubling the wait before the next one. */
  next(key: string, nowMs: number): void {
    const e = this.entries.get(key);
    if (!e || nowMs - e.lastMs > 2 * this.maxMs) this.entries.set(key, { delayMs: this.initialMs, lastMs: nowMs });
    else this.entries.set(key, { delayMs: Math.min(e.delayMs * 2, this.maxMs), lastMs: nowMs });
  }
}
