// How a controller logs a failed sync that its work queue will retry: a conflict (someone wrote
// the object first; the retry re-reads it) is routine and logged at debug level, anything else
// is a warning.

import type { Logger } from 'pino';
import { isConflict } from '../../api/client.js';

export function logSyncError(logger: Logger, err: unknown, fields: Record<string, unknown>, message: string): void {
  if (isConflict(err)) logger.debug({ ...fields, err }, `${message} (conflict)`);
  else logger.warn({ ...fields, err }, message);
}
