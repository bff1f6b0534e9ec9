// maxSurge and maxUnavailable: ints or percentages of the desired replicas. Surge rounds up and
// unavailability rounds down, and if both come out 0 one pod may be unavailable so that a
// rollout can make progress (deployment util ResolveFenceposts).

import type { Deployment } from 'kubernetes-types/apps/v1.js';

export type IntOrString = number | string;

/**
 * The absolute value of an int-or-percent against `total` (intstr.GetScaledValueFromIntOrPercent).
 * Strings must be percentages ("25%"); anything else throws.
 */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^(-?\d+)%$/.exec(value);
  if (!match) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: "${value}"`);
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function desiredReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge ?? '25%', ru?.maxUnavailable ?? '25%', desiredReplicas(d));
}

/** How many pods above the desired count a rolling update may run (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return fenceposts(d).surge;
}

/** How many of the desired pods may be unavailable during a rolling update (0 for Recreate). */
export function maxUnavailable(d: Deployment): number {
  const replicas = desiredReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}
