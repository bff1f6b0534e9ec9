// The table for kinds without a printer of their own: NAME and CREATED AT, as Kubernetes' default
// table convertor makes it. Its date cell is an RFC 3339 timestamp, not an age.

import type { KubeObject } from '../../../api/objects.js';
import { rfc3339 } from './duration.js';
import { NAME_COLUMN, column, printer } from './printer.js';

export const defaultPrinter = printer<KubeObject>(
  [NAME_COLUMN, column('Created At', 'date', 'When the object was created (metadata.creationTimestamp).')],
  (obj) => [obj.metadata?.name ?? '', rfc3339(obj.metadata?.creationTimestamp)],
);
