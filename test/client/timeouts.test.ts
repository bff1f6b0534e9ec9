// The REST client's request timeout: a server that never answers, or stops in the middle of its
// answer, fails the request after requestTimeoutMs instead of holding the caller forever.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { KubeClient } from '../../api/client.js';

let server: Server;
const held: ServerResponse[] = [];
let client: KubeClient;

before(async () => {
  server = createServer((req, res) => {
    held.push(res);
    if (req.url === '/stalls-in-body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":'); // and nothing more
    }
    // '/never': no answer at all
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requestTimeoutMs: 300 });
});
after(async () => {
  await client.close();
  for (const res of held) res.destroy();
  server.close();
});

for (const path of ['/never', '/stalls-in-body']) {
  test(`a request to a server that ${path === '/never' ? 'never answers' : 'stops in the middle of its answer'} fails after the timeout`, async () => {
    const started = Date.now();
    await assert.rejects(client.request('GET', path), (err: Error) => /timeout/i.test(`${err.name} ${err.message}`));
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 5000, `failed after ${took} ms`);
  });
}
