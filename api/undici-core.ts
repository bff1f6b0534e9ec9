// undici's dispatchers without the rest of undici. Its index loads everything it offers at
// require time: fetch, WebSocket, EventSource, the mock agents, cache stores and interceptors,
// about 110 files and 1.2 MB of source. Skiff's clients (the API client, the agent's probes and
// its join) use only an Agent and `dispatcher.request`; loading just those keeps about 3 MB out
// of every process's heap (measured: 4.8 MB heap for the index against 1.8 MB for this), which
// matters for the agent's memory target (bench/agent.ts).
//
// The files are undici's own (the version is locked in package-lock.json); the index does exactly
// what `load` does below: attach the request API to Dispatcher.prototype. If a future undici
// moves them, the resolve fails and the whole index is loaded instead, as before.

import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

function load(): Pick<typeof Undici, 'Agent'> {
  try {
    const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
    const api = require('undici/lib/api/index.js') as object;
    const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
    if (typeof Agent !== 'function' || !(Agent.prototype instanceof Dispatcher)) throw new Error('unexpected undici layout');
    // Idempotent, and the same assignment as undici's index makes when something else loads it.
    if (!('request' in Dispatcher.prototype)) Object.assign(Dispatcher.prototype, api);
    return { Agent };
  } catch {
    return require('undici') as typeof Undici;
  }
}

export const { Agent } = load();
export type Agent = Undici.Agent;
export type { Dispatcher } from 'undici';
