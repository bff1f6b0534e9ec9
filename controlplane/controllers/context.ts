// What every controller gets: a client whose writes are fenced by the leader lease, the shared
// informers of the controller-manager, an event recorder and a logger. A controller is started
// once its process becomes leader and must stop (return) when `signal` aborts.

import type { Logger } from 'pino';
import type { KubeClient } from '../../api/client.js';
import type { EventRecorder } from '../../api/events.js';
import type { SharedInformers } from '../../api/shared-informers.js';

export interface ControllerContext {
  /** Writes through this client commit only while this process leads. */
  client: KubeClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  logger: Logger;
}

export interface Controller {
  readonly name: string;
  /** `source.component` of its events (Kubernetes' names); default: `<name>-controller`. */
  readonly component?: string;
  /**
   * Registers informers and handlers synchronously, then (after the informers synced) runs
   * until `signal` aborts. The manager starts the informers once every controller has
   * registered; a controller waits for them with `informersSynced` (below). A run that
   * throws ends the leadership term (every controller restarts with fresh informers).
   */
  run(ctx: ControllerContext, signal: AbortSignal): Promise<void>;
}

/**
 * Waits for a controller's informers (`synced`, e.g. `ctx.informers.waitForSync(signal)`):
 * false when `signal` aborted meanwhile (the controller just returns), an error naming the
 * controller when they could not sync (which ends the leadership term).
 */
export async function informersSynced(controller: string, signal: AbortSignal, synced: Promise<unknown>): Promise<boolean> {
  try {
    await synced;
    return true;
  } catch {
    if (signal.aborted) return false;
    throw new Error(`${controller} controller: informers did not sync`);
  }
}
