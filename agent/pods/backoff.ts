// Exponential back-off per key, in the manner of client-go's flowcontrol.Backoff that the
// kubelet uses for container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff):
// the delay starts at `initial`, doubles on each failure up to `max`, and an entry whose last
// failure is more than 2 × max old starts over (for the kubelet's 5 min cap: 10 min without a
// failure resets the back-off).

export class BackOff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdateMs: number }>();

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private expired(eventMs: number, lastUpdateMs: number): boolean {
    return eventMs - lastUpdateMs > 2 * this.maxMs;
  }

  /** Whether `key` is still backing off from an event (a container's exit) at `eventMs`. */
  inBackOffSince(key: string, eventMs: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventMs, entry.lastUpdateMs)) return false;
    return this.now() - eventMs < entry.delayMs;
  }

  /** Whether `key` is still backing off from its last recorded failure (image pulls). */
  inBackOffSinceUpdate(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(this.now(), entry.lastUpdateMs)) return false;
    return this.now() - entry.lastUpdateMs < entry.delayMs;
  }

  /** Records a failure at `eventMs`: the next delay doubles (or starts at `initial`). */
  next(key: string, eventMs: number = this.now()): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventMs, entry.lastUpdateMs)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: eventMs });
    } else {
      entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
      entry.lastUpdateMs = eventMs;
    }
  }

  /** The current delay of `key` (0 when it has none). */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Milliseconds until the back-off from `eventMs` ends (0 when it has). */
  remainingSince(key: string, eventMs: number): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.delayMs - (this.now() - eventMs));
  }

  remainingSinceUpdate(key: string): number {
    const entry = this.entries.get(key);
    return entry ? this.remainingSince(key, entry.lastUpdateMs) : 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key with this prefix (a pod went away). */
  resetPrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

/** A duration as Go prints it (10s, 1m20s, 5m0s): the kubelet's back-off messages use this form. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0 ? `${hours}h${minutes}m${seconds}s` : `${minutes}m${seconds}s`;
}
