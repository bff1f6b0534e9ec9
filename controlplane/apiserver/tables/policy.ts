// The poddisruptionbudgets table (policy/v1): NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
// DISRUPTIONS AGE, as Kubernetes 1.32 prints it: the int-or-percent as written, `N/A` when unset.

import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

function intOrPercent(value: number | string | undefined | null): string {
  return value === undefined || value === null ? 'N/A' : String(value);
}

export const podDisruptionBudgetPrinter = printer<PodDisruptionBudget>(
  [
    NAME_COLUMN,
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COLUMN,
  ],
  (pdb, now) => [
    pdb.metadata?.name ?? '',
    intOrPercent(pdb.spec?.minAvailable),
    intOrPercent(pdb.spec?.maxUnavailable),
    pdb.status?.disruptionsAllowed ?? 0,
    timeSince(pdb.metadata?.creationTimestamp, now),
  ],
);
