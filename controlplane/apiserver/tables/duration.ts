// Times as `kubectl get` shows them. Kubernetes' printers format ages and durations on the
// server with apimachinery's `duration.HumanDuration` (about two significant figures: `45s`,
// `5m30s`, `47m`, `3h15m`, `20h`, `3d4h`, `120d`, `2y40d`) and date-typed cells as RFC 3339
// in UTC with whole seconds.

import { kubeTime } from '../../../api/time.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY_HOURS = 24;
const YEAR_DAYS = 365;

/** The Go zero time (`0001-01-01T00:00:00Z`): Kubernetes treats it as "not set". */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/**
 * A duration in milliseconds as Kubernetes prints it. Up to 2 s in the future counts as "now"
 * (clock skew between machines); further in the future is `<invalid>`. Units are truncated,
 * never rounded, and a zero remainder is dropped (`5m`, not `5m0s`).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 2 * 60) return `${seconds}s`;

  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) return withRemainder(minutes, 'm', seconds % 60, 's');
  if (minutes < 3 * 60) return `${minutes}m`;

  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) return withRemainder(hours, 'h', minutes % 60, 'm');
  if (hours < 2 * DAY_HOURS) return `${hours}h`;

  const days = Math.trunc(hours / DAY_HOURS);
  if (days < 8) return withRemainder(days, 'd', hours % DAY_HOURS, 'h');
  if (days < 2 * YEAR_DAYS) return `${days}d`;

  const years = Math.trunc(days / YEAR_DAYS);
  if (years < 8) return withRemainder(years, 'y', days % YEAR_DAYS, 'd');
  return `${years}y`;
}

function withRemainder(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/** Milliseconds since the epoch, or undefined when the timestamp is absent, unparsable or zero. */
export function parseTimestamp(timestamp: string | undefined): number | undefined {
  if (!timestamp) return undefined;
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms) || ms === ZERO_TIME_MS) return undefined;
  return ms;
}

/** How long ago `timestamp` was (the AGE column); `<unknown>` when it is not set. */
export function timeSince(timestamp: string | undefined, now: Date): string {
  const ms = parseTimestamp(timestamp);
  return ms === undefined ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/**
 * A date-typed cell: RFC 3339, UTC, whole seconds (Go's `Time.UTC().Format(time.RFC3339)`). A
 * missing timestamp prints as the Go zero time, as the real default table does.
 */
export function rfc3339(timestamp: string | undefined): string {
  const ms = timestamp ? Date.parse(timestamp) : NaN;
  return kubeTime(Number.isNaN(ms) ? ZERO_TIME_MS : ms);
}
