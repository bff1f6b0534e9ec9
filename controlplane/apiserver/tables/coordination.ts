// The leases table (coordination.k8s.io/v1): NAME HOLDER AGE.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

export const leasePrinter = printer<Lease>(
  [NAME_COLUMN, column('Holder', 'string', 'Identity of the current holder of the lease.'), AGE_COLUMN],
  (lease, now) => [lease.metadata?.name ?? '', lease.spec?.holderIdentity ?? '', timeSince(lease.metadata?.creationTimestamp, now)],
);
