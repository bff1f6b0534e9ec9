// The helper that connects inside a network namespace for `kubectl port-forward` (pod-dial.ts,
// netns-connect.ts), here entering this test's own namespace, where it can reach a server the
// test runs on loopback: sockets it hands over work, refusals name both loopback addresses, one
// helper serves many connections and goes when idle or closed, and a namespace that cannot be
// entered is an error that says so.

import assert from 'node:assert/strict';
import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { NetnsDialer, NetnsUnavailableError } from '../../agent/runtime/pod-dial.js';
import { eventually } from '../helpers/cluster.js';
import { netnsHelpers } from './harness.js';

const helpers = () => netnsHelpers(process.pid);

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('connections made inside a network namespace', () => {
  const server = createServer((socket) => socket.end('hello from the namespace'));
  let port = 0;
  let closedPort = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });
  after(() => server.close());

  test('one helper hands over working sockets, names both loopback addresses when refused, and goes when idle or closed', async () => {
    // Idle for 2 s, the helper goes: long enough that a loaded machine still finds it between two
    // connections (with 300 ms it was gone before the test looked, under load).
    const dialer = new NetnsDialer('/proc/self/ns/net', 2000);
    try {
      // The server speaks first: nothing it sent is lost in the handover.
      assert.equal(await readAll(await dialer.connect(port)), 'hello from the namespace');
      const [helper] = await helpers();
      assert.ok(helper, 'a helper runs');
      assert.equal(await readAll(await dialer.connect(port)), 'hello from the namespace');
      assert.deepEqual(await helpers(), [helper], 'the same helper serves the next connection');
      await assert.rejects(
        dialer.connect(closedPort),
        new RegExp(`^Error: failed to connect to localhost:${closedPort} inside the pod's network namespace: IPv4: connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}, IPv6: connect \\S+ ::1:${closedPort}$`),
      );
      await eventually(async () => ((await helpers()).length === 0 ? true : undefined), 10_000, 'the idle helper to go');

      assert.equal(await readAll(await dialer.connect(port)), 'hello from the namespace');
      assert.equal((await helpers()).length, 1, 'a new helper for a new connection');
    } finally {
      dialer.close();
    }
    await eventually(async () => ((await helpers()).length === 0 ? true : undefined), 5000, 'the closed helper to go');
  });

  test('a namespace that cannot be entered is an error that names it', async () => {
    const dialer = new NetnsDialer('/proc/2147483647/ns/net');
    await assert.rejects(dialer.connect(port), (err: Error) => {
      assert.ok(err instanceof NetnsUnavailableError);
      assert.equal(err.nsenterMissing, false);
      assert.match(err.message, /^entering \/proc\/2147483647\/ns\/net failed \(nsenter exited with 1\): nsenter: .*\/proc\/2147483647\/ns\/net/);
      return true;
    });
    dialer.close();
  });

  test('without nsenter on the PATH, the error says it is missing (port-forward then dials the pod IP)', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await assert.rejects(new NetnsDialer('/proc/self/ns/net').connect(port), (err: Error) => {
        assert.ok(err instanceof NetnsUnavailableError);
        assert.equal(err.nsenterMissing, true);
        assert.equal(err.message, 'nsenter (util-linux) is not installed');
        return true;
      });
    } finally {
      process.env['PATH'] = path;
    }
  });
});
