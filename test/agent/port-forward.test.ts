// `kubectl port-forward` reaches a pod's port as under Kubernetes: from inside the pod's network
// namespace, to localhost. A server bound to 127.0.0.1 only is reached and sees a loopback peer,
// a server that speaks first loses nothing, and a closed port is reported with both addresses
// tried. When the namespace cannot be entered (a Docker engine on another host), the pod's IP is
// dialled and a refusal says why a loopback-only port is out of reach.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AgentMetrics } from '../../agent/metrics.js';
import { dockerFromHost, Engine } from '../../agent/runtime/engine.js';
import { DockerSessions } from '../../agent/runtime/sessions.js';
import { eventually } from '../helpers/cluster.js';
import type { MultiNodeCluster } from '../helpers/multinode.js';
import { startMultiNodeCluster } from '../helpers/multinode.js';
import { kubectlPortForward } from '../helpers/port-forward.js';
import { netnsHelpers } from './harness.js';

/** GET http://127.0.0.1:port/path, the body as text. */
function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** What the server at 127.0.0.1:port says, without a word from us, until it closes. */
function readAll(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe("kubectl port-forward into the pod's network namespace", () => {
  let c: MultiNodeCluster;

  before(async () => {
    c = await startMultiNodeCluster({ agents: 1 });
    const image = c.docker.busyboxImage;
    // A CGI script that answers with the address of the peer httpd saw.
    const cgi = `printf '%s\\n' '#!/bin/sh' 'printf "Content-Type: text/plain\\r\\n\\r\\n"' 'echo $REMOTE_ADDR' > /www/cgi-bin/peer && chmod +x /www/cgi-bin/peer`;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'loopback' },
      spec: {
        containers: [
          {
            // Bound to 127.0.0.1: the pod's IP refuses; only its localhost answers.
            name: 'web',
            image,
            imagePullPolicy: 'Never',
            command: ['sh', '-c', `mkdir -p /www/cgi-bin && echo hello-from-loopback > /www/index.html && ${cgi} && exec httpd -f -p 127.0.0.1:8080 -h /www`],
          },
          // Speaks first, then closes.
          { name: 'banner', image, imagePullPolicy: 'Never', command: ['nc', '-ll', '-p', '9090', '-e', 'echo', 'banner-first'] },
        ],
      },
    };
    const out = await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(out.code, 0, out.stderr);
    const ready = await c.kubectl(['wait', '--for=condition=Ready', 'pod/loopback', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(ready.code, 0, ready.stderr);
  });

  after(async () => {
    await c?.close();
  });

  test('a server bound to 127.0.0.1 only is reached and sees a loopback peer; a server that speaks first loses nothing; a closed port is reported', async () => {
    const forward = await kubectlPortForward(c.cluster.controlPlane.kubeconfigPath, 'pod/loopback', [8080, 9090, 8081]);
    const { ports } = forward;
    try {
      // httpd may still be starting: the pod is Ready as soon as its containers run.
      const page = await eventually(() => httpGet(ports.get(8080)!, '/index.html').catch(() => undefined), 10_000, 'the page');
      assert.equal(page, 'hello-from-loopback\n');
      assert.equal(await httpGet(ports.get(8080)!, '/cgi-bin/peer'), '127.0.0.1\n');
      // Several connections at once, each its own.
      const pages = await Promise.all(Array.from({ length: 5 }, () => httpGet(ports.get(8080)!, '/index.html')));
      assert.ok(pages.every((p) => p === 'hello-from-loopback\n'));
      assert.equal(await readAll(ports.get(9090)!), 'banner-first\n');
      const agentPid = c.agents[0]!.process.child.pid!;
      assert.equal((await netnsHelpers(agentPid)).length, 1, "one helper in the pod's namespace serves the session");

      // Nothing listens on 8081: the agent says so on the connection's error stream, with both
      // loopback addresses it tried; kubectl prints it and gives up the whole forward.
      await assert.rejects(httpGet(ports.get(8081)!, '/'));
      await forward.exited(15_000);
      assert.match(
        forward.stderr(),
        /error forwarding port 8081 to pod default\/loopback: failed to connect to localhost:8081 inside the pod's network namespace: IPv4: connect ECONNREFUSED 127\.0\.0\.1:8081, IPv6: connect \S+ ::1:8081/,
      );
      // The session is over: its helper goes with it.
      await eventually(async () => ((await netnsHelpers(agentPid)).length === 0 ? true : undefined), 10_000, 'the helper to go with the session');
    } finally {
      forward.stop();
    }
  });
});

describe("port-forward where the pod's network namespace cannot be entered", () => {
  test("with the Docker engine on another host, the pod's IP is dialled and a refusal says why a loopback-only port is out of reach", async () => {
    const engine = new Engine(dockerFromHost('tcp://192.0.2.1:2375'), new AgentMetrics());
    const sessions = new DockerSessions(
      engine,
      () => ({ id: 'unused', tty: false }),
      () => ({ hostNetwork: false, ip: '127.0.0.1', sandboxId: 'unused' }),
      'tcp://192.0.2.1:2375',
    );
    const ports = await sessions.portForward('default', 'web');
    const port = await closedPort();
    await assert.rejects(ports.connect(port), (err: Error) => {
      assert.equal(
        err.message,
        `connect ECONNREFUSED 127.0.0.1:${port} (dialled the pod's IP from the node, as the Docker engine (tcp://192.0.2.1:2375) is on another host: a port the pod binds to 127.0.0.1 only is out of reach)`,
      );
      return true;
    });
    ports.close?.();
  });
});
