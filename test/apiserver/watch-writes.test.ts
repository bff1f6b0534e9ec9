// How a watch stream reaches the socket: events that arrive in one turn of the event loop (each
// from its own request, as when many writes land at once) leave in one write, not one each; an
// event that arrives alone still leaves at once; a burst larger than the socket's high-water
// mark does not wait for the reader slice by slice; a reader that stops stops the stream.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { resourceFor } from '../../api/resources.js';
import { serveWatch, WATCH_WRITE_BUFFER } from '../../controlplane/apiserver/handlers/watch.js';
import type { Registry, RegistryWatchEvent } from '../../controlplane/apiserver/registry/registry.js';

const configmaps = resourceFor('', 'configmaps');

/** A registry whose watch yields what the test pushes, and counts what the stream has taken. */
function scriptedRegistry() {
  const pending: RegistryWatchEvent[] = [];
  let wake: (() => void) | undefined;
  let rv = 0;
  const script = {
    taken: 0,
    registry: {
      resource: configmaps,
      async *watch(_namespace: string | undefined, _query: unknown, signal: AbortSignal) {
        signal.addEventListener('abort', () => wake?.());
        while (!signal.aborted) {
          if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          const event = pending.shift();
          if (!event) continue;
          script.taken++;
          yield event;
        }
      },
    } as unknown as Registry,
    /** One ADDED event; `payload` bytes of data make it that much larger. */
    push(name: string, payload = 0) {
      rv++;
      const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion: String(rv) }, data: payload ? { x: 'x'.repeat(payload) } : undefined };
      pending.push({ type: 'ADDED', rv, object });
      wake?.();
    },
  };
  return script;
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

/** Opens the watch and collects the names of the objects it sends. */
async function watchNames() {
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
  return { res, names, received };
}

test('events from many requests in one turn leave in one write; a lone event leaves at once', async () => {
  const { res, names, received } = await watchNames();

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

test('a burst larger than the high-water mark leaves at once, not one 16 KiB slice per turn', async () => {
  const { res, names, received } = await watchNames();
  // 400 events of 1 KiB each: 25 times the socket's high-water mark, well under WATCH_WRITE_BUFFER.
  const before = socketWrites;
  for (let i = 0; i < 400; i++) script.push(`big-${i}`, 1024);
  await received(400);
  assert.equal(names[399], 'big-399');
  const writes = socketWrites - before;
  // Waiting for 'drain' at each 16 KiB of a corked stream took one write (and a turn) per slice: 25.
  assert.ok(writes <= 3, `400 KiB of events in one turn took ${writes} socket writes`);
  res.destroy();
});

test('a reader that stops reading holds the stream back once WATCH_WRITE_BUFFER bytes wait', async () => {
  const { res, names, received } = await watchNames();
  await new Promise<void>((resolve) => {
    script.push('first');
    res.once('data', () => resolve());
  });
  res.pause();
  const takenBefore = script.taken;
  // 64 MiB of events: more than the kernel's socket buffers on both sides and WATCH_WRITE_BUFFER.
  const events = 8192;
  const size = 8192;
  for (let i = 0; i < events; i++) script.push(`stuck-${i}`, size);
  let taken = -1;
  for (let i = 0; i < 100 && taken !== script.taken; i++) {
    taken = script.taken;
    await new Promise((r) => setTimeout(r, 20));
  }
  const sent = script.taken - takenBefore;
  assert.ok(sent < events, `the stream took all ${events} events for a reader that reads nothing`);
  assert.ok(sent * size >= WATCH_WRITE_BUFFER, `the stream stopped after ${sent} events, before its buffer was full`);
  // Once the reader reads again, everything arrives, in order.
  res.resume();
  await received(events + 1);
  assert.equal(names[names.length - 1], `stuck-${events - 1}`);
  res.destroy();
});
