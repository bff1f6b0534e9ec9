// How a controller reports a failed reconcile. A conflict only means the cache was behind a
// write (often the controller's own): the key is retried and nothing is wrong, so it is logged
// at debug level; anything else is a warning.

import type { Logger } from 'pino';
import { isConflict } from '../../../api/client.js';
import { errorMessage } from './pod-control.js';

export function syncErrorLogger(logger: Logger, controller: string): (key: string, err: unknown) => void {
  return (key, err) => {
    if (isConflict(err)) logger.debug({ controller, key, err: errorMessage(err) }, 'sync conflicted with a newer version; will retry');
    else logger.warn({ controller, key, err: errorMessage(err) }, 'sync failed; will retry');
  };
}
