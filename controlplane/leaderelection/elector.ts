// A Lease-based leader elector in the manner of client-go's leaderelection package.
//
// - A candidate takes the Lease when it is free (no holder, or released) or expired. Expiry is
//   judged on the candidate's own monotonic clock: the Lease is expired when its record has not
//   changed for the lease duration (the longer of the Lease's and its own, see claimMs) since the
//   candidate last saw it change. Clocks of different machines are never compared (only their
//   rates matter).
// - The leader renews every retryPeriod, writing over the Lease version it last wrote (a
//   compare-and-swap on resourceVersion). If it has not renewed successfully for renewDeadline
//   (< leaseDuration), it stops leading at once: its term's AbortSignal aborts, before any other
//   candidate may consider the Lease expired.
// - On a clean stop the leader releases the Lease (empty holder) after its work has stopped, so
//   a candidate takes over at its next poll instead of waiting for expiry.
// Fencing (every write of the leader's work names the Lease and holder) covers what timing cannot:
// a leader paused longer than the margin finds its writes refused.

import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict } from '../../api/client.js';
import { DEFAULT_LEADER_ELECTION, JITTER_FACTOR, validateLeaderElection } from './config.js';
import type { LeaderElectionConfig } from './config.js';
import { recordOf } from './lease-lock.js';
import type { LeaseLock, LeaseRecord, StoredLease } from './lease-lock.js';
import { delay as sleep } from '../../api/delay.js';
import { kubeMicroTime } from '../../api/time.js';

export interface LeaderElectorOptions {
  lock: LeaseLock;
  /** Unique per process (client-go: hostname + '_' + a UUID). */
  identity: string;
  config?: Partial<LeaderElectionConfig>;
  logger?: Logger;
  /** Monotonic milliseconds. Tests freeze it to play a process that is paused. */
  now?: () => number;
  /** Called when the observed holder changes ('' when the Lease is free). */
  onNewLeader?: (identity: string) => void;
}

type RenewOutcome = 'lost' | 'stopped';

export class LeaderElector {
  readonly identity: string;
  readonly config: LeaderElectionConfig;
  private readonly lock: LeaseLock;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  /** The Lease as last seen, and when (our clock) its record last changed. */
  private observed: StoredLease | undefined;
  private observedAt = 0;
  /** The Lease as we last wrote it while holding it. */
  private held: StoredLease | undefined;
  private leading = false;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.config = { ...DEFAULT_LEADER_ELECTION, ...options.config };
    const errors = validateLeaderElection(this.config);
    if (errors.length > 0) throw new Error(`invalid leader election timings: ${errors.join('; ')}`);
    this.lock = options.lock;
    this.logger = options.logger;
    this.now = options.now ?? (() => performance.now());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder named by the Lease as last observed ('' when free or unknown). */
  get observedLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns, leads, and campaigns again, until `signal` aborts. While this process leads,
   * `lead(term)` runs; `term` aborts when leadership is lost or `signal` aborts, and `lead` must
   * resolve once its work has stopped. If `lead` ends (or fails) by itself, the Lease is
   * released and the elector campaigns again after a back-off.
   */
  async run(signal: AbortSignal, lead: (term: AbortSignal) => Promise<void>): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const acquiredAt = await this.acquire(signal);
      if (acquiredAt === undefined) break;
      const term = new AbortController();
      const stopTerm = () => term.abort();
      signal.addEventListener('abort', stopTerm, { once: true });
      this.leading = true;
      this.logger?.info({ identity: this.identity, lease: `${this.lock.namespace}/${this.lock.name}` }, 'became leader');
      const startedAt = this.now();
      let workEnded = false;
      const work = Promise.resolve()
        .then(() => lead(term.signal))
        .catch((err: unknown) => this.logger?.error({ err }, 'leader work failed'))
        .finally(() => {
          workEnded = !term.signal.aborted;
          term.abort();
        });
      const outcome = await this.renewUntilStopped(acquiredAt, term.signal);
      this.leading = false;
      term.abort();
      if (outcome === 'lost') this.logger?.warn({ identity: this.identity }, 'lost leadership');
      await work;
      signal.removeEventListener('abort', stopTerm);
      if (outcome === 'stopped') await this.release();
      if (signal.aborted) break;
      // Work that ended on its own (a crashed controller) hands over and backs off before retrying.
      if (workEnded) {
        failures = this.now() - startedAt > 60_000 ? 1 : failures + 1;
        await sleep(Math.min(1000 * 2 ** (failures - 1), 60_000), signal);
      }
    }
    this.leading = false;
  }

  // -------------------------------------------------------------------------------------------

  /** Polls until the Lease is ours; returns when the winning request was sent, or undefined if stopped. */
  private async acquire(signal: AbortSignal): Promise<number | undefined> {
    while (!signal.aborted) {
      const sentAt = this.now();
      try {
        if (await this.tryAcquire(signal)) return sentAt;
      } catch (err) {
        if (signal.aborted) break;
        this.logger?.debug({ err }, 'could not acquire the leader lease');
      }
      await sleep(this.config.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR), signal);
    }
    return undefined;
  }

  private async tryAcquire(signal: AbortSignal): Promise<boolean> {
    const lease = await this.lock.get(signal);
    if (!lease) {
      try {
        this.take(await this.lock.create(this.recordAfter(undefined), signal));
        return true;
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    }
    this.observe(lease);
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.identity && this.now() < this.observedAt + this.claimMs(lease)) return false;
    try {
      this.take(await this.lock.update(lease, this.recordAfter(lease), signal));
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Renews every retryPeriod until the term is stopped ('stopped') or no renewal has succeeded
   * for renewDeadline since the last successful one was sent ('lost').
   */
  private async renewUntilStopped(acquiredAt: number, term: AbortSignal): Promise<RenewOutcome> {
    const { renewDeadlineMs, retryPeriodMs } = this.config;
    let lastRenewSent = acquiredAt;
    while (true) {
      // Wake up at the deadline at the latest, so leadership never outlives it by a retry period.
      await sleep(Math.min(retryPeriodMs, lastRenewSent + renewDeadlineMs - this.now()), term);
      if (term.aborted) return 'stopped';
      const sentAt = this.now();
      const remaining = lastRenewSent + renewDeadlineMs - sentAt;
      if (remaining <= 0) return 'lost';
      try {
        const renewed = await this.tryRenew(AbortSignal.any([term, AbortSignal.timeout(Math.ceil(remaining))]));
        if (!renewed) return 'lost';
        lastRenewSent = sentAt;
      } catch (err) {
        if (term.aborted) return 'stopped';
        this.logger?.warn({ err }, 'failed to renew the leader lease');
      }
      if (this.now() - lastRenewSent >= renewDeadlineMs) return 'lost';
    }
  }

  /** One renewal: true when renewed, false when another holder has the Lease. */
  private async tryRenew(signal: AbortSignal): Promise<boolean> {
    if (this.held) {
      try {
        this.take(await this.lock.update(this.held, this.recordAfter(this.held), signal));
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    // Someone else wrote the Lease (or it was deleted): look before writing again.
    const lease = await this.lock.get(signal);
    if (!lease) {
      this.take(await this.lock.create(this.recordAfter(undefined), signal));
      return true;
    }
    this.observe(lease);
    if ((lease.spec?.holderIdentity ?? '') !== this.identity) return false;
    this.take(await this.lock.update(lease, this.recordAfter(lease), signal));
    return true;
  }

  /** Gives the Lease up (empty holder) so that a candidate need not wait for it to expire. */
  private async release(): Promise<void> {
    let held = this.held;
    this.held = undefined;
    if (!held) return;
    const signal = AbortSignal.timeout(Math.ceil(this.config.renewDeadlineMs));
    const releasing = (lease: StoredLease): Promise<StoredLease> => {
      const now = kubeMicroTime();
      const record = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: recordOf(lease).leaseTransitions ?? 0 };
      return this.lock.update(lease, record, signal);
    };
    try {
      let released: StoredLease;
      try {
        released = await releasing(held);
      } catch (err) {
        // The stop aborted a renewal whose write the server may still have made: the Lease then
        // moved on from the version we hold. If it still names us, release that version.
        if (!isConflict(err)) throw err;
        const current = await this.lock.get(signal);
        if ((current?.spec?.holderIdentity ?? '') !== this.identity) return;
        held = current!;
        released = await releasing(held);
      }
      this.observe(released);
      this.logger?.info({ identity: this.identity }, 'released the leader lease');
    } catch (err) {
      this.logger?.warn({ err }, 'failed to release the leader lease');
    }
  }

  private take(lease: StoredLease): void {
    this.held = lease;
    this.observe(lease);
  }

  private observe(lease: StoredLease): void {
    if (lease.metadata.resourceVersion === this.observed?.metadata.resourceVersion) return;
    const before = this.observedLeader;
    this.observed = lease;
    this.observedAt = this.now();
    const holder = this.observedLeader;
    if (holder !== before) this.options.onNewLeader?.(holder);
  }

  /**
   * How long a holder's claim lasts after its last renewal: as client-go judges it, the duration
   * the Lease states, so that a holder configured for longer (another server's flags, or any
   * client holding the Lease on purpose) is not taken over early. The Lease has whole seconds
   * only, rounded up by its writer: a Lease stating no more than our own duration rounds up to
   * may stand for exactly ours (a peer with the same flags), and we use our own.
   */
  private claimMs(lease: StoredLease): number {
    const stated = lease.spec?.leaseDurationSeconds ?? 0;
    return stated > Math.ceil(this.config.leaseDurationMs / 1000) ? stated * 1000 : this.config.leaseDurationMs;
  }

  /** The record we write over `previous`: our identity, renewed now. */
  private recordAfter(previous: StoredLease | undefined): LeaseRecord {
    const old = recordOf(previous);
    const ours = old.holderIdentity === this.identity;
    const now = kubeMicroTime();
    return {
      holderIdentity: this.identity,
      // The Lease shows whole seconds (claimMs says how candidates read them).
      leaseDurationSeconds: Math.max(1, Math.ceil(this.config.leaseDurationMs / 1000)),
      acquireTime: ours && old.acquireTime ? old.acquireTime : now,
      renewTime: now,
      leaseTransitions: ours || !previous ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
    };
  }
}
