// The controller-manager runtime: campaigns for the `skiff-controller-manager` Lease and, while
// this process leads, runs the scheduler and every controller. Each leadership term gets fresh
// informers, a fenced client (its writes commit only while this process holds the Lease) and
// one event recorder per controller. When leadership is lost the term's signal aborts, the
// controllers stop, and the manager campaigns again; on shutdown it releases the Lease after the
// controllers have stopped, so another server takes over at once.

import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { KubeClient } from '../../api/client.js';
import { EventRecorder, EVENTS_DROPPED } from '../../api/events.js';
import { SharedInformers } from '../../api/shared-informers.js';
import type { LeaderElectionConfig } from '../leaderelection/config.js';
import { LeaderElector } from '../leaderelection/elector.js';
import { ApiLeaseLock } from '../leaderelection/lease-lock.js';
import type { LeaseLock } from '../leaderelection/lease-lock.js';
import type { Controller, ControllerContext } from './context.js';

export const CONTROLLER_MANAGER_LEASE = { namespace: 'kube-system', name: 'skiff-controller-manager' } as const;

export interface ControllerManagerOptions {
  /** An unfenced client with the rights to write everything (the admin token). */
  client: KubeClient;
  /** The client for the Lease (default: `client`); its own connections keep renewals off busy ones. */
  electionClient?: KubeClient;
  controllers: readonly Controller[];
  logger: Logger;
  /** This process in the Lease and in events (default: hostname_uuid, as client-go). */
  identity?: string;
  election?: Partial<LeaderElectionConfig>;
  lease?: { namespace: string; name: string };
  /** For tests: the Lease the election uses (default: the API) and the elector's clock. */
  lock?: LeaseLock;
  now?: () => number;
  /** Told when this process starts leading (informers synced) and when it stops. */
  onLeadingChange?: (leading: boolean) => void;
}

/** What the rest of `skiff server` (and tests) see of a controller-manager, in this thread or not. */
export interface ControllerManagerHandle {
  readonly identity: string;
  /** True while this process leads (its controllers run). */
  isLeader(): boolean;
  /** Resolves when this process leads and its informers have synced. */
  whenLeading(): Promise<void>;
  /** Stops the controllers, releases the Lease and resolves when everything has stopped. */
  stop(): Promise<void>;
}

export interface ControllerManager extends ControllerManagerHandle {
  readonly elector: LeaderElector;
}

/** client-go's identity: the host name and a UUID, unique per process start. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** The component name a controller's events carry (Kubernetes' `source.component`). */
export function eventComponent(controller: Controller): string {
  if (controller.component) return controller.component;
  return controller.name.endsWith('controller') ? controller.name : `${controller.name}-controller`;
}

export function startControllerManager(options: ControllerManagerOptions): ControllerManager {
  const identity = options.identity ?? defaultIdentity();
  const lease = options.lease ?? CONTROLLER_MANAGER_LEASE;
  const logger = options.logger.child({ component: 'controller-manager' });
  const elector = new LeaderElector({
    lock: options.lock ?? new ApiLeaseLock(options.electionClient ?? options.client, lease.namespace, lease.name),
    identity,
    config: options.election,
    logger,
    now: options.now,
    onNewLeader: (holder) => logger.info({ leader: holder || '(none)' }, 'leader observed'),
  });
  const stopping = new AbortController();
  let synced = false;
  let leadingWaiters: (() => void)[] = [];

  async function lead(term: AbortSignal): Promise<void> {
    const client = options.client.fenced(lease, identity);
    const informers = new SharedInformers(client, {
      onError: (err) => logger.warn({ err }, 'informer list/watch failed; retrying'),
    });
    // A controller that fails ends the term for all (as a crash restarts kube-controller-manager):
    // everything restarts from fresh informers after the elector's back-off.
    const work = new AbortController();
    // Every informer and controller listens for the end of the term.
    setMaxListeners(0, work.signal);
    const endWork = () => work.abort();
    term.addEventListener('abort', endWork, { once: true });
    const host = hostname();
    const runs = options.controllers.map((controller) => {
      const ctx: ControllerContext = {
        client,
        informers,
        recorder: new EventRecorder(client, { component: eventComponent(controller), host }, {
          onError: (err) => logger.debug({ err, controller: controller.name }, 'event not recorded'),
          onDropped: (count) => logger.warn({ controller: controller.name, dropped: count }, EVENTS_DROPPED),
        }),
        logger: logger.child({ controller: controller.name }),
      };
      // run() registers its informers synchronously, before the informers start below.
      return Promise.resolve()
        .then(() => controller.run(ctx, work.signal))
        .catch((err: unknown) => {
          if (work.signal.aborted) return;
          logger.error({ err, controller: controller.name }, 'controller failed; giving up leadership');
          work.abort();
          throw err;
        });
    });
    try {
      await informers.start(work.signal);
      if (!work.signal.aborted) {
        synced = true;
        logger.info({ controllers: options.controllers.map((c) => c.name) }, 'controllers started');
        options.onLeadingChange?.(true);
        for (const waiter of leadingWaiters.splice(0)) waiter();
      }
    } catch (err) {
      if (!work.signal.aborted) logger.error({ err }, 'informers failed to start');
    }
    // The term lasts until leadership ends or a controller fails, even if every run returned.
    const [results] = await Promise.all([Promise.allSettled(runs), aborted(work.signal)]);
    if (synced) options.onLeadingChange?.(false);
    synced = false;
    term.removeEventListener('abort', endWork);
    work.abort();
    await informers.stopped();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !term.aborted) throw failed.reason;
  }

  const running = elector.run(stopping.signal, lead).catch((err: unknown) => logger.error({ err }, 'leader election stopped'));

  return {
    identity,
    elector,
    isLeader: () => elector.isLeader && synced,
    whenLeading: () =>
      elector.isLeader && synced ? Promise.resolve() : new Promise<void>((resolve) => leadingWaiters.push(resolve)),
    async stop() {
      stopping.abort();
      await running;
      leadingWaiters = [];
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
