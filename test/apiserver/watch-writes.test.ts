// How a watch stream reaches the socket: events that arrive in one turn of the event loop (each
// from its own request, as when many writes land at once) leave in one write, not one each; an
// event that arrives alone still leaves at once.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { resourceFor } from '../../api/resources.js';
import { serveWatch } from '../../controlplane/apiserver/handlers/watch.js';
import type { Registry, RegistryWatchEvent } from '../../controlplane/apiserver/registry/registry.js';

const configmaps = resourceFor('', 'configmaps');

/** A registry whose watch yields what the test pushes. */
function scriptedRegistry() {
  const pending: RegistryWatchEvent[] = [];
  let wake: (() => void) | undefined;
  let rv = 0;
  const registry = {
    resource: configmaps,
    async *watch(_namespace: string | undefined, _query: unknown, signal: AbortSignal) {
      signal.addEventListener('abort', () => wake?.());
      while (!signal.aborted) {
        if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        yield* pending.splice(0);
      }
    },
  } as unknown as Registry;
  const push = (name: string) => {
    rv++;
    pending.push({ type: 'ADDED', rv, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion: String(rv) } } });
    wake?.();
  };
  return { registry, push };
}

let server: Server;
let socketWrites = 0;
const script = scriptedRegistry();

before(async () => {
  server = createServer((req, res) => {
    void serveWatch(req, res, script.registry, undefined, {}, {
      format: { as: 'object', media: 'json' },
      includeObject: 'Object',
      allowBookmarks: false,
      timeoutSeconds: 60,
      bookmarkIntervalMs: 60_000,
    });
  });
  // Every write the server's socket makes to the kernel goes through _write or _writev.
  server.on('connection', (socket: Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }) => {
    const write = socket._write.bind(socket);
    const writev = socket._writev.bind(socket);
    socket._write = (...a) => (socketWrites++, write(...a));
    socket._writev = (...a) => (socketWrites++, writev(...a));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('events from many requests in one turn leave in one write; a lone event leaves at once', async () => {
  const res: IncomingMessage = await new Promise((resolve) => get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/watch`, resolve));
  assert.equal(res.statusCode, 200);
  const names: string[] = [];
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      names.push(JSON.parse(buffered.slice(0, nl)).object.metadata.name);
      buffered = buffered.slice(nl + 1);
    }
  });
  const received = async (count: number) => {
    for (let i = 0; i < 500 && names.length < count; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(names.length, count);
  };

  // Twenty events, each pushed by its own callback of one turn (as twenty requests read at once).
  const before = socketWrites;
  for (let i = 0; i < 20; i++) setImmediate(() => script.push(`burst-${i}`));
  await received(20);
  assert.deepEqual(names, Array.from({ length: 20 }, (_, i) => `burst-${i}`), 'every event, in order');
  const burstWrites = socketWrites - before;
  assert.ok(burstWrites <= 2, `twenty events in one turn took ${burstWrites} socket writes`);

  // A lone event is not held back for company.
  const started = Date.now();
  script.push('alone');
  await received(21);
  assert.equal(names[20], 'alone');
  assert.ok(Date.now() - started < 1000);
  res.destroy();
});
