// Cron schedules as CronJobs spell them (Kubernetes parses them with robfig/cron's standard
// parser): five fields (minute hour day-of-month month day-of-week) or one of the macros, read in
// an IANA time zone. The API server validates with it and the CronJob controller computes start
// times with it; croner does the calendar arithmetic, time zones and daylight saving included.

import { Cron } from 'croner';

/** robfig/cron's descriptors, as the five fields they stand for. */
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** What a field may hold in the standard syntax; croner's extensions (L, W, #) are refused. */
const VALUE = '([0-9]+|[A-Za-z]{3})';
const RANGE = `(\\*|\\?|${VALUE}(-${VALUE})?)(\\/[0-9]+)?`;
const FIELD = new RegExp(`^${RANGE}(,${RANGE})*$`);
const TZ_PREFIX = /^(?:CRON_)?TZ=(\S+)\s+/;

export interface CronSchedule {
  /** The first start time strictly after `afterMs`, or undefined if there is none. */
  next(afterMs: number): number | undefined;
}

export type ParsedSchedule = { ok: true; schedule: CronSchedule } | { ok: false; message: string };

/** Whether the schedule names its own zone (`TZ=…` or `CRON_TZ=…`), which CronJobs refuse on create. */
export function scheduleNamesTimeZone(schedule: string): boolean {
  return schedule.includes('TZ');
}

/**
 * Parses `schedule` to be read in `timeZone` (UTC when absent). A `TZ=`/`CRON_TZ=` prefix, which
 * only CronJobs created before Kubernetes refused it can carry, overrides the zone.
 */
export function parseSchedule(schedule: string, timeZone?: string): ParsedSchedule {
  let spec = schedule.trim();
  let zone = timeZone ?? 'UTC';
  const prefix = TZ_PREFIX.exec(spec);
  if (prefix) {
    zone = prefix[1] ?? zone;
    spec = spec.slice(prefix[0].length).trim();
  }
  if (spec === '') return { ok: false, message: 'empty spec string' };
  const zoneProblem = timeZoneProblem(zone);
  if (zoneProblem) return { ok: false, message: `provided bad location ${zone}: ${zoneProblem}` };
  if (spec.startsWith('@')) {
    const expanded = MACROS[spec];
    if (!expanded) return { ok: false, message: `unrecognized descriptor: ${spec}` };
    spec = expanded;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) return { ok: false, message: `expected exactly 5 fields, found ${fields.length}: ${spec}` };
  const bad = fields.find((f) => !FIELD.test(f));
  if (bad !== undefined) return { ok: false, message: `failed to parse field: ${bad}` };
  // croner reads 7 as Sunday; robfig/cron's day-of-week stops at 6.
  const weekday = fields[4] ?? '';
  const past = weekday
    .split(',')
    .flatMap((part) => (part.split('/')[0] ?? '').split('-').map(Number))
    .find((n) => n > 6);
  if (past !== undefined) return { ok: false, message: `end of range (${past}) above maximum (6): ${weekday}` };
  let cron: Cron;
  try {
    // legacyMode: with both day fields restricted either may match, as in Vixie cron and robfig.
    cron = new Cron(`0 ${fields.join(' ')}`, { timezone: zone, paused: true, legacyMode: true });
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  return {
    ok: true,
    schedule: {
      next(afterMs) {
        const t = cron.nextRun(new Date(afterMs));
        return t ? t.getTime() : undefined;
      },
    },
  };
}

/** Why `zone` is not a time zone CronJobs accept (Go's time.LoadLocation), or undefined. */
export function timeZoneProblem(zone: string): string | undefined {
  if (zone === '') return 'timeZone must be nil or non-empty string';
  if (zone.toLowerCase() === 'local') return 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones';
  // IANA names: path elements of letters, digits and ._-+ (Kubernetes' validTimeZoneCharacters).
  if (!/^[A-Za-z0-9._+-]{1,14}(\/[A-Za-z0-9._+-]{1,14})*$/.test(zone)) return `unknown time zone ${zone}`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return `unknown time zone ${zone}`;
  }
  return undefined;
}

/** RFC 3339 with the zone's offset at that instant (`2026-01-01T09:00:00-05:00`; `Z` in UTC), as Go formats it. */
export function formatInZone(ms: number, zone = 'UTC'): string {
  const offsetMin = zoneOffsetMinutes(ms, zone);
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${local}Z`;
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offsetMin < 0 ? '-' : '+'}${hh}:${mm}`;
}

function zoneOffsetMinutes(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}
