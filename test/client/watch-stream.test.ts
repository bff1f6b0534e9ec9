// How the client reads a watch stream off the wire: events split anywhere across chunks (even
// inside a UTF-8 character), several events in one chunk, blank lines, and an in-stream ERROR.
// A plain HTTP server on loopback plays the API server so that the chunk boundaries are ours.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { resourceFor } from '../../api/resources.js';

const configmaps = resourceFor('', 'configmaps');

function line(type: string, name: string, value: string): string {
  return `${JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion: '1' }, data: { value } } })}\n`;
}

describe('watch stream decoding', () => {
  let server: Server;
  let client: KubeClient;
  /** What the next watch request is answered with: each element is written separately, after a pause. */
  let script: (Buffer | string)[] = [];

  before(async () => {
    server = createServer((req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      void (async () => {
        for (const piece of script) {
          res.write(piece);
          await sleep(30); // separate TCP segments, so separate chunks for the client
        }
        res.end();
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });
  after(async () => {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  async function collect(): Promise<{ name: string; value: string }[]> {
    const seen: { name: string; value: string }[] = [];
    for await (const event of client.watch(configmaps, 'default')) {
      const object = event.object as { metadata: { name: string }; data: { value: string } };
      seen.push({ name: object.metadata.name, value: object.data.value });
    }
    return seen;
  }

  test('a character split between two chunks arrives whole; a burst of events in one chunk arrives in order', async () => {
    const first = Buffer.from(line('ADDED', 'greeting', 'grüß dich, 日本, 🚢'));
    const cut = first.indexOf(Buffer.from('🚢')) + 2; // in the middle of the 4-byte ship
    script = [first.subarray(0, cut), first.subarray(cut), `\n${line('MODIFIED', 'a', '1')}${line('MODIFIED', 'b', '2')}${line('DELETED', 'c', 'é')}`];
    assert.deepEqual(await collect(), [
      { name: 'greeting', value: 'grüß dich, 日本, 🚢' },
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
      { name: 'c', value: 'é' },
    ]);
  });

  test('an ERROR event ends the watch with its Status', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 };
    script = [line('ADDED', 'x', 'y'), `${JSON.stringify({ type: 'ERROR', object: status })}\n`];
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of client.watch(configmaps, 'default')) seen.push(event.type);
      })(),
      (err: unknown) => err instanceof StatusError && err.code === 410 && /too old resource version/.test(err.message),
    );
    assert.deepEqual(seen, ['ADDED']);
  });
});
