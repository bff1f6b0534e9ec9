// Leader-election timings, as client-go's LeaderElectionConfig names them.
//
// Defaults: leaseDuration 1.5 s, renewDeadline 1 s, retryPeriod 0.25 s (client-go: 15/10/2 s).
// - Failover after a crash: a candidate polls every retryPeriod and sees the holder's last
//   renewal at most one retryPeriod late, then waits leaseDuration on its own clock:
//   ≤ 1.5 + 0.25 (+ jitter, ≤ 0.05) ≈ 1.8 s after the crash. A clean shutdown releases the
//   lease, so a candidate takes over at its next poll (≤ 0.3 s).
// - Safety: the leader stops acting renewDeadline after it *sent* its last successful renewal;
//   others cannot take over sooner than leaseDuration after that renewal *committed*, so there
//   is leaseDuration − renewDeadline = 0.5 s of margin (clock-rate drift and event-loop delays
//   eat into it; fenced writes cover what is left).
// - renewDeadline / retryPeriod = 4 renewal attempts before the leader gives up, so one slow
//   request or a short event-loop stall does not cost the leadership.

export interface LeaderElectionConfig {
  /** How long a candidate waits, from the last change it observed, before taking the lease. */
  leaseDurationMs: number;
  /** How long the leader keeps acting without a successful renewal. */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews. */
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION: LeaderElectionConfig = {
  leaseDurationMs: 1500,
  renewDeadlineMs: 1000,
  retryPeriodMs: 250,
};

/** Jitter added to a candidate's polling period (client-go uses up to 1.2× for 2 s periods). */
export const JITTER_FACTOR = 0.2;

/** client-go's rule: leaseDuration > renewDeadline > (1 + jitter) × retryPeriod > 0. */
export function validateLeaderElection(config: LeaderElectionConfig): string[] {
  const errors: string[] = [];
  const { leaseDurationMs: ld, renewDeadlineMs: rd, retryPeriodMs: rp } = config;
  if (!(rp > 0)) errors.push('retryPeriod must be greater than zero');
  if (!(ld > rd)) errors.push('leaseDuration must be greater than renewDeadline');
  if (!(rd > (1 + JITTER_FACTOR) * rp)) errors.push(`renewDeadline must be greater than retryPeriod × ${1 + JITTER_FACTOR}`);
  return errors;
}
