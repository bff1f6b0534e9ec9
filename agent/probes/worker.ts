// One probe (liveness, readiness or startup) of one container instance, on its own timer, with
// Kubernetes' rules (pkg/kubelet/prober/worker.go): nothing before initialDelaySeconds (counted
// from the container's start); a run every periodSeconds; the result flips only after
// failureThreshold failures or successThreshold successes in a row; readiness starts as
// failure, liveness as success; a startup probe stops once it succeeded; liveness and readiness
// wait until the container has started. Workers of containers that were already running when
// the agent started begin at a random point of their period, so a restart causes no probe storm.

import type { Probe } from 'kubernetes-types/core/v1.js';
import type { ProbeOutcome } from './outcome.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeWorkerOptions {
  type: ProbeType;
  probe: Probe;
  /** When the container instance started (ms since epoch). */
  startedAtMs: number;
  /** Run the probe once. */
  run(timeoutMs: number): Promise<ProbeOutcome>;
  /** Whether the container has started (startup probe passed); liveness/readiness wait for it. */
  started(): boolean;
  /** Called after every run with its outcome and whether the worker's result changed. */
  report(outcome: ProbeOutcome, durationMs: number, changed: boolean): void;
  /** Start at a random point of the first period (adopted containers). */
  jitter: boolean;
  initialResult?: ProbeResult;
}

export class ProbeWorker {
  private resultNow: ProbeResult;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly periodMs: number;
  private readonly timeoutMs: number;
  private readonly initialDelayMs: number;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;

  constructor(private readonly options: ProbeWorkerOptions) {
    const p = options.probe;
    this.periodMs = Math.max(1, p.periodSeconds ?? 10) * 1000;
    this.timeoutMs = Math.max(1, p.timeoutSeconds ?? 1) * 1000;
    this.initialDelayMs = Math.max(0, p.initialDelaySeconds ?? 0) * 1000;
    // successThreshold must be 1 for liveness and startup probes (API validation enforces it).
    this.successThreshold = options.type === 'readiness' ? Math.max(1, p.successThreshold ?? 1) : 1;
    this.failureThreshold = Math.max(1, p.failureThreshold ?? 3);
    this.resultNow = options.initialResult ?? (options.type === 'liveness' ? 'success' : options.type === 'readiness' ? 'failure' : 'unknown');
  }

  get result(): ProbeResult {
    return this.resultNow;
  }

  start(): void {
    const sinceStart = Date.now() - this.options.startedAtMs;
    let first = Math.max(0, this.initialDelayMs - sinceStart);
    if (this.options.jitter && first === 0) first = Math.floor(Math.random() * this.periodMs);
    this.schedule(first);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const began = Date.now();
    try {
      await this.probeOnce();
    } finally {
      const done = this.options.type === 'startup' && this.resultNow === 'success';
      if (!done) this.schedule(Math.max(0, this.periodMs - (Date.now() - began)));
    }
  }

  private async probeOnce(): Promise<void> {
    if (this.stopped) return;
    if (this.options.type !== 'startup' && !this.options.started()) return;
    if (Date.now() - this.options.startedAtMs < this.initialDelayMs) return;
    const began = performance.now();
    let outcome: ProbeOutcome;
    try {
      outcome = await this.options.run(this.timeoutMs);
    } catch (err) {
      outcome = { result: 'error', output: (err as Error).message };
    }
    if (this.stopped) return;
    const before = this.resultNow;
    if (outcome.result === 'success') {
      this.failures = 0;
      this.successes++;
      if (this.successes >= this.successThreshold) this.resultNow = 'success';
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= this.failureThreshold) this.resultNow = 'failure';
    }
    this.options.report(outcome, performance.now() - began, before !== this.resultNow);
  }
}
