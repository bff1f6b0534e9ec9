// The controller-manager of a `skiff server`. It talks to this server's own API over loopback
// HTTPS with the admin token, like any other client (never to the registry directly), so what it
// does is what a second server against the same store would see. It runs in a worker thread:
// the API server's event loop then serves requests while the scheduler and controllers use the
// machine's other core (on 2 cores: ~40% more pods scheduled per second than on one thread).

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { KubeClient } from '../../api/client.js';
import { DEFAULT_LEADER_ELECTION, validateLeaderElection } from '../leaderelection/config.js';
import type { LeaderElectionConfig } from '../leaderelection/config.js';
import type { Controller } from './context.js';
import { allControllers } from './index.js';
import type { ControllersConfig } from './index.js';
import { defaultIdentity, startControllerManager } from './manager.js';
import type { ControllerManagerHandle } from './manager.js';

/** How `skiff server` runs its controller-manager (its flags). */
export interface ControllerManagerSettings {
  election?: Partial<LeaderElectionConfig>;
  controllers?: Partial<ControllersConfig>;
  identity?: string;
  /** Runs these controllers instead, in this thread (tests: functions cannot cross threads). */
  only?: readonly Controller[];
}

export interface ApiEndpoint {
  url: string;
  caCertPem: string;
  token: string;
  /** The API server's loopback unix socket, when it has one (then `url` is http://localhost). */
  socketPath?: string;
}

/** What the worker thread gets (structured-cloneable). */
export interface WorkerSettings {
  api: ApiEndpoint;
  identity: string;
  election?: Partial<LeaderElectionConfig>;
  controllers?: Partial<ControllersConfig>;
  logLevel: string;
}

export type WorkerMessage = { type: 'leading'; leading: boolean } | { type: 'stopped' };

export type ServerControllerManager = ControllerManagerHandle & { close(): Promise<void> };

export function clientsFor(api: ApiEndpoint): { client: KubeClient; electionClient: KubeClient } {
  const config = { server: api.url, caPem: api.caCertPem, token: api.token, socketPath: api.socketPath, userAgent: 'skiff-controller-manager' };
  return { client: new KubeClient(config), electionClient: new KubeClient(config) };
}

/** Throws on settings the controller-manager could not run with: leader-election timings, controller options (the cluster CIDR…). */
export function checkControllerManagerSettings(settings: ControllerManagerSettings): void {
  const errors = validateLeaderElection({ ...DEFAULT_LEADER_ELECTION, ...settings.election });
  if (errors.length > 0) throw new Error(`invalid leader election timings: ${errors.join('; ')}`);
  if (!settings.only) allControllers(settings.controllers);
}

/** Settings are checked first, by the caller (checkControllerManagerSettings), before anything starts. */
export function startServerControllerManager(api: ApiEndpoint, settings: ControllerManagerSettings, logger: Logger): ServerControllerManager {
  if (settings.only) return startInThisThread(api, settings.only, settings, logger);
  return startInWorkerThread(api, settings, logger);
}

function startInThisThread(api: ApiEndpoint, controllers: readonly Controller[], settings: ControllerManagerSettings, logger: Logger): ServerControllerManager {
  const { client, electionClient } = clientsFor(api);
  const manager = startControllerManager({ client, electionClient, controllers, logger, identity: settings.identity, election: settings.election });
  return {
    identity: manager.identity,
    isLeader: () => manager.isLeader(),
    whenLeading: () => manager.whenLeading(),
    stop: () => manager.stop(),
    async close() {
      await manager.stop();
      await Promise.all([client.close(), electionClient.close()]);
    },
  };
}

const WORKER_STOP_TIMEOUT_MS = 10_000;

/**
 * The worker running ./manager-worker. Compiled, that is the .js file; from TypeScript sources
 * (tests under tsx) the worker must first register tsx's loader itself, as workers of Node 20 do
 * not inherit it.
 */
function newWorker(workerData: WorkerSettings): Worker {
  const options = { workerData, name: 'controller-manager' };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./manager-worker.js', import.meta.url), options);
  const entry = new URL('./manager-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

function startInWorkerThread(api: ApiEndpoint, settings: ControllerManagerSettings, logger: Logger): ServerControllerManager {
  const identity = settings.identity ?? defaultIdentity();
  const workerData: WorkerSettings = { api, identity, election: settings.election, controllers: settings.controllers, logLevel: logger.level };
  const worker = newWorker(workerData);
  let leading = false;
  let waiters: (() => void)[] = [];
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let stopping = false;
  worker.on('message', (message: WorkerMessage) => {
    if (message.type !== 'leading') return;
    leading = message.leading;
    if (leading) for (const waiter of waiters.splice(0)) waiter();
  });
  worker.on('error', (err) => logger.error({ err }, 'controller-manager thread failed'));
  void exited.then((code) => {
    leading = false;
    if (!stopping) logger.error({ code }, 'controller-manager thread exited: no scheduler or controllers run on this server');
  });
  const stop = async () => {
    if (!stopping) {
      stopping = true;
      worker.postMessage({ type: 'stop' });
    }
    const timer = setTimeout(() => void worker.terminate(), WORKER_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    waiters = [];
  };
  return {
    identity,
    isLeader: () => leading,
    whenLeading: () => (leading ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    stop,
    close: stop,
  };
}
