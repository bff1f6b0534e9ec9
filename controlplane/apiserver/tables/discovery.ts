// The endpoint slices table (discovery.k8s.io/v1): NAME ADDRESSTYPE PORTS ENDPOINTS AGE.

import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

const SHOWN = 3;

export const endpointSlicePrinter = printer<EndpointSlice>(
  [
    NAME_COLUMN,
    column('AddressType', 'string', 'IPv4, IPv6 or FQDN.'),
    column('Ports', 'string', 'Port numbers (or names) of the slice, the first three.'),
    column('Endpoints', 'string', 'Endpoint addresses, the first three, ready or not.'),
    AGE_COLUMN,
  ],
  (slice, now) => [
    slice.metadata?.name ?? '',
    slice.addressType ?? '',
    firstFew((slice.ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? '*')))),
    firstFew((slice.endpoints ?? []).flatMap((e) => e.addresses ?? [])),
    timeSince(slice.metadata?.creationTimestamp, now),
  ],
);

/** `a,b,c + 2 more...`, or `<unset>` for an empty list. */
function firstFew(items: readonly string[]): string {
  if (items.length === 0) return '<unset>';
  const text = items.slice(0, SHOWN).join(',');
  return items.length > SHOWN ? `${text} + ${items.length - SHOWN} more...` : text;
}
