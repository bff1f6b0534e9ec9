// `kubectl exec`, `cp`, `attach` and `port-forward` end to end: the real kubectl (WebSocket,
// v5.channel.k8s.io; SPDY tunnelled in a WebSocket for port-forward) and @kubernetes/client-node
// (v4.channel.k8s.io, with a TTY) through the API server to a `skiff agent` process and Docker;
// the channel protocol read raw with `ws`; and the refusals (unknown pod or container, a node's
// credentials, a plain request, exec over SPDY).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { credentialPaths, readNodeCredential } from '../../agent/bootstrap/files.js';
import { eventually, KUBECTL } from '../helpers/cluster.js';
import type { MultiNodeCluster } from '../helpers/multinode.js';
import { startMultiNodeCluster } from '../helpers/multinode.js';
import { kubectlPortForward } from '../helpers/port-forward.js';
import { refusedUpgrade } from '../helpers/upgrade.js';

interface ChannelMessages {
  byChannel: Map<number, Buffer[]>;
  order: number[];
  closeCode: number;
}

/** Opens pods/exec raw with `ws`, sends `send` (each a channel message), collects until the server closes. */
async function rawExec(c: MultiNodeCluster, query: string, send: Buffer[], token?: string): Promise<ChannelMessages> {
  const url = `${c.cluster.url.replace(/^https/, 'wss')}/api/v1/namespaces/default/pods/shell/exec?${query}`;
  const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: c.cluster.controlPlane.caCertPem, headers: { Authorization: `Bearer ${token ?? c.cluster.controlPlane.adminToken}` } });
  const byChannel = new Map<number, Buffer[]>();
  const order: number[] = [];
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { statusCode: res.statusCode, body })));
    });
    ws.on('error', reject);
    ws.on('open', () => {
      for (const m of send) ws.send(m);
    });
    ws.on('message', (data: Buffer) => {
      order.push(data[0]!);
      (byChannel.get(data[0]!) ?? byChannel.set(data[0]!, []).get(data[0]!)!).push(data.subarray(1));
    });
    ws.on('close', (closeCode) => resolve({ byChannel, order, closeCode }));
  });
}

/** GET http://127.0.0.1:port/path, the body as bytes. */
function httpGet(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const text = (m: ChannelMessages, channel: number) => Buffer.concat(m.byChannel.get(channel) ?? []).toString();

describe('kubectl exec, cp and attach through the API server and the agent', () => {
  let c: MultiNodeCluster;
  let dir: string;

  before(async () => {
    c = await startMultiNodeCluster({ agents: 1 });
    dir = await mkdtemp(join(tmpdir(), 'skiff-exec-'));
    const image = c.docker.busyboxImage;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'shell', annotations: { 'kubectl.kubernetes.io/default-container': 'app' } },
      spec: {
        containers: [
          { name: 'app', image, imagePullPolicy: 'Never', command: ['sleep', '3600'] },
          { name: 'side', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo side > /tmp/who; exec sleep 3600'] },
        ],
      },
    };
    const attachable = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reader' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'reader', image, imagePullPolicy: 'Never', stdin: true, stdinOnce: true, command: ['sh', '-c', 'read line; echo "got $line"'] }],
      },
    };
    const web = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        containers: [
          {
            name: 'httpd',
            image,
            imagePullPolicy: 'Never',
            command: ['sh', '-c', 'mkdir -p /www && echo hello-from-pod > /www/index.html && head -c 3000000 /dev/urandom > /www/big.bin && exec httpd -f -p 8080 -h /www'],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    };
    for (const manifest of [pod, attachable, web]) {
      const out = await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      assert.equal(out.code, 0, out.stderr);
    }
    for (const name of ['shell', 'reader', 'web']) {
      const out = await c.kubectl(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], { timeoutMs: 70_000 });
      assert.equal(out.code, 0, out.stderr);
    }
  });

  after(async () => {
    await c?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('kubectl exec: stdout and stderr apart, the exit code passed on, -c picks the container', async () => {
    const out = await c.kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assert.equal(out.code, 3, out.stderr);
    assert.equal(out.stdout, 'to-out\n');
    assert.match(out.stderr, /to-err/);
    assert.match(out.stderr, /command terminated with exit code 3/);

    const side = await c.kubectl(['exec', 'shell', '-c', 'side', '--', 'cat', '/tmp/who']);
    assert.equal(side.code, 0, side.stderr);
    assert.equal(side.stdout, 'side\n');
  });

  test('kubectl exec -i: stdin reaches the command, and its end is the end of input (v5 close)', async () => {
    const out = await c.kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', 'wc -l; echo done'], { input: 'one\ntwo\nthree\n' });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.replace(/ +/g, ''), '3\ndone\n');
  });

  test('kubectl exec -it from a terminal (script(1) gives kubectl one): a TTY in the container, keystrokes reach it', async () => {
    const command = [KUBECTL, `--kubeconfig=${c.cluster.controlPlane.kubeconfigPath}`, 'exec', '-it', 'shell', '--', 'sh', '-c', "tty; read line; echo got-$line"];
    const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', quoted, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout });
      });
      // Typed once the shell is there (its tty line shows), as a person would.
      const typing = setInterval(() => {
        if (!/\/dev\/pts\/\d+/.test(stdout)) return;
        clearInterval(typing);
        child.stdin.write('hello\r');
      }, 50);
      child.on('close', () => clearInterval(typing));
    });
    assert.equal(out.code, 0, out.stdout);
    assert.match(out.stdout, /\/dev\/pts\/\d+/);
    assert.match(out.stdout, /got-hello/);
  });

  test('kubectl exec and cp over SPDY (before kubectl 1.30, and its fallback: KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    const out = await c.kubectl(['-v=6', 'exec', 'shell', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 4'], { env });
    assert.equal(out.code, 4, out.stderr);
    assert.equal(out.stdout, 'to-out\n');
    assert.match(out.stderr, /to-err/);
    assert.match(out.stderr, /POST https:\/\/\S+\/exec\?\S+ 101 Switching Protocols/, 'SPDY, not a WebSocket');
    const typed = await c.kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', 'wc -l; echo done'], { input: 'a\nb\n', env });
    assert.equal(typed.code, 0, typed.stderr);
    assert.equal(typed.stdout.replace(/ +/g, ''), '2\ndone\n');
    const local = join(dir, 'spdy.txt');
    await writeFile(local, 'copied over spdy\n');
    const copied = await c.kubectl(['cp', local, 'default/shell:/tmp/spdy.txt', '-c', 'app'], { env });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal((await c.kubectl(['exec', 'shell', '--', 'cat', '/tmp/spdy.txt'], { env })).stdout, 'copied over spdy\n');
  });

  test('kubectl cp copies a file into the pod and back (tar over exec)', async () => {
    const local = join(dir, 'payload.txt');
    const payload = `${'0123456789abcdef'.repeat(64 * 1024)}end\n`; // ~1 MiB: more than one message each way
    await writeFile(local, payload);
    const into = await c.kubectl(['cp', local, 'default/shell:/tmp/payload.txt', '-c', 'app'], { timeoutMs: 60_000 });
    assert.equal(into.code, 0, into.stderr);
    const size = await c.kubectl(['exec', 'shell', '--', 'sh', '-c', 'wc -c < /tmp/payload.txt']);
    assert.equal(size.stdout.trim(), String(payload.length));
    const back = join(dir, 'back.txt');
    const from = await c.kubectl(['cp', 'default/shell:/tmp/payload.txt', back, '-c', 'app'], { timeoutMs: 60_000 });
    assert.equal(from.code, 0, from.stderr);
    assert.equal(await readFile(back, 'utf8'), payload);
  });

  test('kubectl attach -i talks to the container\'s own stdin', async () => {
    const out = await c.kubectl(['attach', '-i', 'reader'], { input: 'hello\n', timeoutMs: 30_000 });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /got hello/);
    await eventually(async () => ((await c.cluster.api('GET', '/api/v1/namespaces/default/pods/reader')).body.status?.phase === 'Succeeded' ? true : undefined), 20_000, 'reader to finish');
  });

  test('@kubernetes/client-node exec with a TTY (v4.channel.k8s.io)', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.cluster.controlPlane.kubeconfigPath);
    const stdout = new PassThrough();
    let output = '';
    stdout.on('data', (d: Buffer) => (output += d.toString()));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec('default', 'shell', 'app', ['sh', '-c', 'tty; stty size; echo to-err >&2'], stdout, null, null, true, resolve).catch(reject);
    });
    assert.equal(status.status, 'Success');
    assert.match(output, /^\/dev\/pts\/\d+\r?$/m, 'a terminal');
    assert.match(output, /to-err/, 'stderr comes on the terminal');
  });

  test('the channel protocol, read raw: an empty first message, channels apart, the outcome on channel 3, resize', async () => {
    const m = await rawExec(c, 'command=sh&command=-c&command=cat%3B%20echo%20bye%20%3E%262%3B%20exit%205&stdin=true&stdout=true&stderr=true', [
      Buffer.from([0, ...Buffer.from('typed\n')]),
      Buffer.from([255, 0]),
    ]);
    assert.equal(m.order[0], 1, 'the first message is on stdout');
    assert.equal(m.byChannel.get(1)![0]!.length, 0, 'and empty');
    assert.equal(text(m, 1), 'typed\n');
    assert.equal(text(m, 2), 'bye\n');
    const outcome = JSON.parse(text(m, 3));
    assert.equal(outcome.status, 'Failure');
    assert.equal(outcome.reason, 'NonZeroExitCode');
    assert.deepEqual(outcome.details.causes, [{ reason: 'ExitCode', message: '5' }]);
    assert.equal(m.order.at(-1), 3, 'the outcome comes last');
    assert.equal(m.closeCode, 1000);

    // The size comes as a message after the process started: give it a moment, then ask the terminal.
    const sized = await rawExec(c, 'command=sh&command=-c&command=sleep%200.5%3B%20stty%20size&stdin=true&stdout=true&tty=true', [Buffer.from([4, ...Buffer.from('{"Width":123,"Height":45}')])]);
    assert.equal(JSON.parse(text(sized, 3)).status, 'Success');
    assert.equal(text(sized, 1), '45 123\r\n');
  });

  test('kubectl port-forward: requests reach the pod\'s port, 3 MB arrive intact, a closed port is reported as kubectl reports it', async () => {
    // -v=6 logs each request with its answer: the tunnel is a GET answered 101.
    const forward = await kubectlPortForward(c.cluster.controlPlane.kubeconfigPath, 'pod/web', [8080, 8081], { kubectlArgs: ['-v=6'] });
    const { ports } = forward;
    try {
      const page = await httpGet(ports.get(8080)!, '/index.html');
      assert.equal(page.body.toString(), 'hello-from-pod\n');
      assert.match(forward.stderr(), /GET https:\/\/\S+\/api\/v1\/namespaces\/default\/pods\/web\/portforward 101 Switching Protocols/, 'the WebSocket tunnel, not the SPDY fallback');
      const [big, expected] = await Promise.all([
        httpGet(ports.get(8080)!, '/big.bin'),
        c.kubectl(['exec', 'web', '--', 'sh', '-c', 'sha256sum /www/big.bin']),
      ]);
      assert.equal(big.body.length, 3_000_000);
      assert.equal(createHash('sha256').update(big.body).digest('hex'), expected.stdout.split(' ')[0]);
      // Several connections at once, each its own pair of streams.
      const pages = await Promise.all(Array.from({ length: 5 }, () => httpGet(ports.get(8080)!, '/index.html')));
      assert.ok(pages.every((p) => p.body.toString() === 'hello-from-pod\n'));

      // A port nothing listens on: the agent writes why on the connection's error stream; kubectl
      // prints it and, as it does against Kubernetes, gives up the whole forward.
      await assert.rejects(httpGet(ports.get(8081)!, '/'));
      await forward.exited(15_000);
      assert.match(forward.stderr(), /an error occurred forwarding \d+ -> 8081: error forwarding port 8081 to pod default\/web: .*ECONNREFUSED/);
    } finally {
      forward.stop();
    }
  });

  test('kubectl port-forward over plain SPDY (its fallback; KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', async () => {
    const forward = await kubectlPortForward(c.cluster.controlPlane.kubeconfigPath, 'pod/web', [8080], {
      kubectlArgs: ['-v=6'],
      env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
    });
    const port = forward.ports.get(8080)!;
    try {
      const big = await httpGet(port, '/big.bin');
      assert.equal(big.body.length, 3_000_000);
      assert.equal((await httpGet(port, '/index.html')).body.toString(), 'hello-from-pod\n');
      assert.match(forward.stderr(), /POST https:\/\/\S+\/portforward 101 Switching Protocols/, 'plain SPDY');
    } finally {
      forward.stop();
    }
  });

  test('refusals: unknown pod or container, a node\'s credentials, a plain request, SPDY before v4', async () => {
    const missing = await c.kubectl(['exec', 'nope', '--', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pods "nope" not found/);
    const badContainer = await c.kubectl(['exec', 'shell', '-c', 'nope', '--', 'true']);
    assert.notEqual(badContainer.code, 0);
    assert.match(badContainer.stderr, /container nope is not valid for pod shell/);

    const node = await readNodeCredential(credentialPaths(c.agents[0]!.dataDir));
    await assert.rejects(rawExec(c, 'command=true&stdout=true', [], node!.token), (err: { statusCode?: number; body?: string }) => {
      assert.equal(err.statusCode, 403);
      assert.match(err.body ?? '', /"kind":"Status"/);
      return true;
    });

    const plain = await c.cluster.api('GET', '/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true');
    assert.equal(plain.status, 400);
    assert.equal(plain.body.message, 'Upgrade request required');

    // SPDY with only the remotecommand versions before v4 (their errors are worded differently).
    const spdy = await refusedUpgrade(`${c.cluster.url}/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true`, {
      method: 'POST',
      ca: c.cluster.controlPlane.caCertPem,
      headers: { authorization: `Bearer ${c.cluster.controlPlane.adminToken}`, connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v3.channel.k8s.io' },
    });
    assert.equal(spdy.status, 400);
    assert.match(JSON.parse(spdy.body).message, /exec over SPDY needs X-Stream-Protocol-Version v4\.channel\.k8s\.io/);
  });
});
