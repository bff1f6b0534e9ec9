// How a controller logs a failed sync that its work queue will retry: a conflict (someone wrote
// the object first; the retry re-reads it) is routine and logged at debug level, anything else
// is a warning.

import type { Logger } from 'pino';
import { isConflict } from '../../api/client.js';

export function logSyncError(logger: Logger, err: unknown, fields: Record<string, unknown>, message: string): void {
  if (isConflict(err)) logger.debug({ ...fields, err }, `${message} (conflict)`);
  else logger.warn({ ...fields, err }, message);
}

/** The error handler of a controller's work queue of object keys (runWorkers' onError). */
export function syncErrorLogger(logger: Logger, controller: string): (key: string, err: unknown) => void {
  return (key, err) => {
    if (isConflict(err)) logger.debug({ controller, key, err: errorMessage(err) }, 'sync conflicted with a newer version; will retry');
    else logger.warn({ controller, key, err: errorMessage(err) }, 'sync failed; will retry');
  };
}

/** The message of a thrown value, for logs, events and status conditions. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
