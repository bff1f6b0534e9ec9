// The worker thread of `skiff server`'s controller-manager (see ./server-manager.ts): builds the
// clients and controllers from its settings, reports leadership to the main thread and stops
// (releasing the Lease) when told to.

import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { allControllers } from './index.js';
import { startControllerManager } from './manager.js';
import { clientsFor } from './server-manager.js';
import type { WorkerMessage, WorkerSettings } from './server-manager.js';

const settings = workerData as WorkerSettings;
const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const logger = pino({ name: 'skiff-server', level: settings.logLevel });
const { client, electionClient } = clientsFor(settings.api);
const manager = startControllerManager({
  client,
  electionClient,
  controllers: allControllers(settings.controllers),
  logger,
  identity: settings.identity,
  election: settings.election,
  onLeadingChange: (leading) => post({ type: 'leading', leading }),
});

port.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  void (async () => {
    await manager.stop();
    await Promise.all([client.close(), electionClient.close()]);
    post({ type: 'stopped' });
    port.close();
  })();
});
