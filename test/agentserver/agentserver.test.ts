import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import { startAgentServer } from '../../agent/server/server.js';
import type { AgentServer } from '../../agent/server/server.js';
import { createCertificateAuthority, issueCertificate } from '../../controlplane/apiserver/pki.js';
import type { CertificateAuthority, IssuedCertificate } from '../../controlplane/apiserver/pki.js';
import { eventually } from '../helpers/cluster.js';
import { refusedUpgrade } from '../helpers/upgrade.js';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { PORT_FORWARD_PROTOCOL, PORT_FORWARD_TUNNEL } from '../../agent/server/portforward.js';
import { controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FLAG_FIN, FrameReader, FrameType, HeaderCodec, RstStatus } from '../../agent/server/spdy.js';
import type { Frame } from '../../agent/server/spdy.js';
import { outcomeStatus } from '../../agent/server/process-pump.js';
import { parseStreamRequest } from '../../agent/server/streams.js';
import { FakeLogSource, FakeStreamSource, FakeUsageSource } from './fakes.js';

interface Reply {
  status: number;
  text: string;
}

describe("the agent's HTTPS endpoint", () => {
  let ca: CertificateAuthority;
  let apiServerCert: IssuedCertificate;
  let dir: string;
  let server: AgentServer;
  const logs = new FakeLogSource();
  const streams = new FakeStreamSource();
  const usage = new FakeUsageSource([
    { namespace: 'default', name: 'web', containers: [{ name: 'app', cpuNanoCores: 1_500_000, memoryWorkingSetBytes: 4096 * 300 }] },
  ]);
  const agentRegistry = new Registry();
  new Counter({ name: 'skiff_agent_test_marker_total', help: 'a metric of the rest of the agent', registers: [agentRegistry] }).inc();

  function get(path: string, client?: IssuedCertificate): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path, ca: ca.certPem, cert: client?.certPem, key: client?.keyPem, servername: 'node-1' },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-agentserver-'));
    ca = await createCertificateAuthority('test-ca');
    apiServerCert = await issueCertificate(ca, { commonName: 'skiff-apiserver', organizations: ['system:masters'], usage: 'client' });
    const serving = await issueCertificate(ca, { commonName: 'system:node:node-1', organizations: ['system:nodes'], dnsNames: ['node-1'], ips: ['127.0.0.1'], usage: 'server' });
    server = await startAgentServer({
      nodeName: 'node-1',
      bindAddress: '127.0.0.1',
      port: 0,
      caCertPem: ca.certPem,
      serving,
      logs,
      streams,
      usage,
      metricsRegistry: agentRegistry,
      filesystemPath: dir,
      usageSampleIntervalMs: 200,
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('refuses callers without the API server certificate', async () => {
    const nodeClient = await issueCertificate(ca, { commonName: 'system:node:node-2', organizations: ['system:nodes'], usage: 'client' });
    const nodeServing = await issueCertificate(ca, { commonName: 'system:node:node-2', organizations: ['system:nodes'], ips: ['127.0.0.1'], usage: 'server' });
    const otherCa = await createCertificateAuthority('other');
    const foreign = await issueCertificate(otherCa, { commonName: 'skiff-apiserver', organizations: ['system:masters'], usage: 'client' });
    for (const path of ['/containerLogs/default/web/app', '/stats/summary', '/metrics']) {
      const anonymous = await get(path);
      assert.equal(anonymous.status, 401, path);
      assert.equal(JSON.parse(anonymous.text).reason, 'Unauthorized');
      assert.equal((await get(path, foreign)).status, 401, `${path}: a certificate of another CA`);
      assert.equal((await get(path, nodeServing)).status, 401, `${path}: a serving certificate used as a client certificate`);
      const node = await get(path, nodeClient);
      assert.equal(node.status, 403, `${path}: a client outside system:masters`);
    }
    assert.equal(logs.calls.length, 0, 'no logs were read for refused callers');
    const health = await get('/healthz');
    assert.deepEqual(health, { status: 200, text: 'ok' });
  });

  test('streams container logs with the options of the query', async () => {
    const reply = await get('/containerLogs/default/web/app?tailLines=5&timestamps=true&sinceSeconds=30&previous=true&limitBytes=100', apiServerCert);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'app line 1\napp line 2\n');
    const call = logs.calls.at(-1)!;
    assert.deepEqual(
      { namespace: call.namespace, pod: call.pod, container: call.container, options: call.options },
      { namespace: 'default', pod: 'web', container: 'app', options: { tailLines: 5, timestamps: true, sinceSeconds: 30, previous: true, limitBytes: 100 } },
    );
    const since = await get('/containerLogs/default/web/app?sinceTime=2026-01-02T03:04:05Z', apiServerCert);
    assert.equal(since.status, 200);
    assert.equal(logs.calls.at(-1)!.options.sinceTime, '2026-01-02T03:04:05Z');
  });

  test("relays the log source's errors as Kubernetes Status", async () => {
    const missing = await get('/containerLogs/default/missing/app', apiServerCert);
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.text).message, 'pods "missing" not found');
    const waiting = await get('/containerLogs/default/waiting/app', apiServerCert);
    assert.equal(waiting.status, 400);
    assert.match(JSON.parse(waiting.text).message, /is waiting to start: ContainerCreating/);
    assert.equal((await get('/containerLogs/default/web/app?tailLines=x', apiServerCert)).status, 400);
    assert.equal((await get('/containerLogs/default/web', apiServerCert)).status, 404);
  });

  test('a follow streams until the caller goes away, then stops the source', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/containerLogs/default/web/app?follow=true', ca: ca.certPem, cert: apiServerCert.certPem, key: apiServerCert.keyPem, servername: 'node-1' },
        (res: IncomingMessage) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
            if (text.includes('line 4\n')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
      req.end();
    });
    assert.match(seen, /^app line 1\napp line 2\napp line 3\napp line 4\n/);
    const call = logs.calls.at(-1)!;
    assert.equal(call.options.follow, true);
    await eventually(() => (call.signal.aborted ? true : undefined), 5_000, 'the log source to be told to stop');
  });

  test('serves a usage summary of the node and its pods', async () => {
    const reply = await eventually(async () => {
      const r = await get('/stats/summary', apiServerCert);
      return r.status === 200 ? r : undefined;
    }, 5_000, 'the first usage sample');
    const summary = JSON.parse(reply.text);
    assert.equal(summary.node.nodeName, 'node-1');
    assert.ok(summary.node.windowSeconds > 0 && summary.node.windowSeconds < 2);
    assert.ok(summary.node.cpu.usageNanoCores >= 0);
    assert.ok(summary.node.memory.workingSetBytes > 0 && summary.node.memory.workingSetBytes <= summary.node.memory.capacityBytes);
    assert.ok(summary.node.fs.capacityBytes > 0);
    assert.deepEqual(summary.pods, [
      {
        podRef: { name: 'web', namespace: 'default' },
        containers: [{ name: 'app', cpu: { time: summary.pods[0].containers[0].cpu.time, usageNanoCores: 1_500_000 }, memory: { time: summary.pods[0].containers[0].memory.time, workingSetBytes: 1_228_800 } }],
      },
    ]);
  });

  test("serves Prometheus metrics: node gauges and the rest of the agent's", async () => {
    const reply = await get('/metrics', apiServerCert);
    assert.equal(reply.status, 200);
    assert.match(reply.text, /^skiff_agent_node_cpu_usage_cores \d/m);
    assert.match(reply.text, /^skiff_agent_node_memory_bytes\{state="working_set"\} \d+/m);
    assert.match(reply.text, /^skiff_agent_node_filesystem_bytes\{state="available"\} \d+/m);
    assert.match(reply.text, /^skiff_agent_test_marker_total 1$/m);
    assert.match(reply.text, /^skiff_agent_server_requests_total\{path="\/containerLogs\/",code="401"\} \d+/m);
  });
  /** A WebSocket session on the agent's exec path: sends `send` once open, collects channel messages until close. */
  function session(path: string, send: Buffer[], protocols = ['v5.channel.k8s.io']): Promise<{ channels: Map<number, Buffer>; first: number[]; code: number }> {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}${path}`, protocols, { ca: ca.certPem, cert: apiServerCert.certPem, key: apiServerCert.keyPem, servername: 'node-1' } as WebSocket.ClientOptions);
    const channels = new Map<number, Buffer>();
    const first: number[] = [];
    return new Promise((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => reject(new Error(`${res.statusCode} ${text}`)));
      });
      ws.on('error', reject);
      ws.on('open', () => send.forEach((m) => ws.send(m)));
      ws.on('message', (data: Buffer) => {
        if (first.length < 2) first.push(data[0]!, data.length - 1);
        channels.set(data[0]!, Buffer.concat([channels.get(data[0]!) ?? Buffer.alloc(0), data.subarray(1)]));
      });
      ws.on('close', (code) => resolve({ channels, first, code }));
    });
  }

  test('exec: messages sent before the process connects wait for it; v5 close ends its stdin; resize reaches the session', async () => {
    const reply = await session('/exec/default/web/app?command=cat&stdin=true&stdout=true&tty=true', [
      Buffer.from([0, ...Buffer.from('early ')]),
      Buffer.from([4, ...Buffer.from('{"Width":100,"Height":30}')]),
      Buffer.from([0, ...Buffer.from('input')]),
      Buffer.from([255, 0]),
    ]);
    assert.deepEqual(reply.first, [1, 0], 'an empty stdout message first');
    assert.equal(reply.channels.get(1)?.toString(), 'early input');
    assert.deepEqual(JSON.parse(reply.channels.get(3)!.toString()), { metadata: {}, status: 'Success' });
    assert.equal(reply.code, 1000);
    assert.deepEqual(streams.resizes.at(-1), { width: 100, height: 30 });
    assert.deepEqual(streams.commands.at(-1)?.options, { stdin: true, stdout: true, stderr: false, tty: true });
  });

  test('exec: 8 MiB of output arrive whole behind a slow WebSocket, then the exit code (v4 protocol)', async () => {
    const total = 8 * 1024 * 1024;
    const reply = await session(`/exec/default/web/app?command=flood&command=${total}&stdout=true&stderr=true`, [], ['v4.channel.k8s.io']);
    assert.equal(reply.channels.get(1)?.length, total);
    assert.equal(reply.channels.get(2)?.toString(), 'flood done\n');
    assert.deepEqual(JSON.parse(reply.channels.get(3)!.toString()), outcomeStatus(7));
    assert.equal(outcomeStatus(7).reason, 'NonZeroExitCode');
  });

  test('exec refusals come before the switch, as Status: no protocol we speak, bad options, the source\'s errors', async () => {
    await assert.rejects(session('/exec/default/web/app?command=cat&stdout=true', [], ['channel.k8s.io']), /^Error: 400 .*none of the offered WebSocket protocols/);
    await assert.rejects(session('/exec/default/web/app?command=cat', []), /^Error: 400 .*at least 1 of stdin, stdout, stderr/);
    await assert.rejects(session('/exec/default/web/app?stdout=true', []), /^Error: 400 .*at least one command/);
    await assert.rejects(session('/exec/default/missing/app?command=cat&stdout=true', []), /^Error: 404 .*pods \\"missing\\" not found/);
    await assert.rejects(session('/exec/default/web/app?command=sh&stdout=true', []), /^Error: 400 .*is not running/);
    assert.equal(parseStreamRequest('/exec/default/web', new URLSearchParams('command=x&stdout=1')), undefined);
    assert.deepEqual(parseStreamRequest('/attach/ns/p/c', new URLSearchParams('stdin=1&stderr=true&tty=t'))?.options, { stdin: true, stdout: false, stderr: false, tty: true });
  });

  /** A SPDY/3 client over a plain `Upgrade: SPDY/3.1` to the agent, as kubectl's fallback speaks it. */
  async function spdyClient(path: string, protocolVersion = PORT_FORWARD_PROTOCOL) {
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: ca.certPem, cert: apiServerCert.certPem, key: apiServerCert.keyPem, servername: 'node-1' });
    await once(socket, 'secureConnect');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: node-1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocolVersion}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    while (!buffered.includes('\r\n\r\n')) buffered = Buffer.concat([buffered, (await once(socket, 'data'))[0] as Buffer]);
    const end = buffered.indexOf('\r\n\r\n') + 4;
    const head = buffered.subarray(0, end).toString();
    const reader = new FrameReader();
    const frames: Frame[] = reader.push(buffered.subarray(end));
    socket.on('data', (chunk: Buffer) => frames.push(...reader.push(chunk)));
    const compress = new HeaderCodec('compress');
    const decompress = new HeaderCodec('decompress');
    return {
      head,
      frames,
      async open(id: number, headers: Record<string, string>, fin = false) {
        const block = await compress.process(encodeHeaderBlock(headers));
        const prefix = Buffer.alloc(10);
        prefix.writeUInt32BE(id, 0);
        socket.write(controlFrame(FrameType.SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([prefix, block])));
      },
      send: (id: number, data: string, fin = false) => socket.write(dataFrame(id, fin ? FLAG_FIN : 0, Buffer.from(data))),
      ping: (id: number) => socket.write(controlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, id]))),
      /** Waits for a frame matching `match`, taking it (and the frames before it) off the list. */
      async next(match: (f: Frame) => boolean): Promise<Frame> {
        return eventually(() => {
          const i = frames.findIndex(match);
          return i < 0 ? undefined : frames.splice(0, i + 1)[i];
        }, 5_000, 'a SPDY frame');
      },
      replyHeaders: async (f: Frame) => decodeHeaderBlock(await decompress.process(f.payload.subarray(4))),
      close: () => socket.destroy(),
    };
  }

  test('port-forward over SPDY: streams accepted in pairs, bytes both ways with each end passed on, refusals on the error stream, PING echoed', async () => {
    const echo = createNetServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    streams.echoPort = (echo.address() as AddressInfo).port;
    const client = await spdyClient('/portForward/default/web');
    try {
      assert.match(client.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(client.head, /X-Stream-Protocol-Version: portforward\.k8s\.io/i);
      const isReply = (id: number) => (f: Frame) => f.control && f.type === FrameType.SYN_REPLY && f.payload.readUInt32BE(0) === id;
      const isData = (id: number) => (f: Frame) => !f.control && f.streamId === id;

      await client.open(1, { streamtype: 'error', port: '80', requestid: '0' }, true);
      await client.open(3, { streamtype: 'data', port: '80', requestid: '0' });
      assert.deepEqual(await client.replyHeaders(await client.next(isReply(1))), {});
      await client.next(isReply(3));
      client.send(3, 'hello over spdy');
      assert.equal((await client.next(isData(3))).payload.toString(), 'hello over spdy');
      client.send(3, '', true);
      const fin = await client.next((f) => isData(3)(f) && (f.flags & FLAG_FIN) !== 0);
      assert.equal(fin.payload.length, 0);
      const errorEnd = await client.next((f) => isData(1)(f) && (f.flags & FLAG_FIN) !== 0);
      assert.equal(errorEnd.payload.length, 0, 'nothing on the error stream of a connection that worked');
      // Both ends closed: the session has forgotten the stream.
      client.send(3, 'late');
      const forgotten = await client.next((f) => f.control && f.type === FrameType.RST_STREAM);
      assert.deepEqual([forgotten.payload.readUInt32BE(0), forgotten.payload.readUInt32BE(4)], [3, RstStatus.INVALID_STREAM]);

      await client.open(5, { streamtype: 'error', port: '81', requestid: '1' }, true);
      await client.open(7, { streamtype: 'data', port: '81', requestid: '1' });
      const why = await client.next((f) => isData(5)(f) && f.payload.length > 0);
      assert.match(why.payload.toString(), /^error forwarding port 81 to pod default\/web: .*ECONNREFUSED/);

      client.ping(1);
      const pong = await client.next((f) => f.control && f.type === FrameType.PING);
      assert.equal(pong.payload.readUInt32BE(0), 1);

      await client.open(9, { streamtype: 'bogus', port: '80', requestid: '2' });
      const reset = await client.next((f) => f.control && f.type === FrameType.RST_STREAM);
      assert.deepEqual([reset.payload.readUInt32BE(0), reset.payload.readUInt32BE(4)], [9, RstStatus.PROTOCOL_ERROR]);
    } finally {
      client.close();
      echo.close();
    }
  });

  test('exec over SPDY (remotecommand v4): one stream per channel, stdin ends with its FIN, the outcome on the error stream', async () => {
    const client = await spdyClient('/exec/default/web/app?command=cat&stdin=true&stdout=true&tty=true', 'v4.channel.k8s.io');
    try {
      assert.match(client.head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(client.head, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/i);
      const isData = (id: number) => (f: Frame) => !f.control && f.streamId === id;
      // As client-go opens them: error, stdin, stdout, resize (a TTY: no stderr).
      await client.open(1, { streamtype: 'error' }, true);
      await client.open(3, { streamtype: 'stdin' });
      await client.open(5, { streamtype: 'stdout' });
      await client.open(7, { streamtype: 'resize' });
      client.send(7, '{"Width":90,"Height":20}\n');
      client.send(3, 'over spdy');
      assert.equal((await client.next((f) => isData(5)(f) && f.payload.length > 0)).payload.toString(), 'over spdy');
      client.send(3, '', true);
      // As the kubelet does: the outcome, then every stream closed.
      const outcome = await client.next((f) => isData(1)(f) && f.payload.length > 0);
      assert.deepEqual(JSON.parse(outcome.payload.toString()), { metadata: {}, status: 'Success' });
      await client.next((f) => isData(5)(f) && (f.flags & FLAG_FIN) !== 0);
      await eventually(() => (streams.resizes.some((r) => r.width === 90 && r.height === 20) ? true : undefined), 5_000, 'the resize');
    } finally {
      client.close();
    }
  });

  test('port-forward refusals come before the switch: unknown pod, no transport we speak', async () => {
    // The tunnel's subprotocol is no RFC 7230 token, which the `ws` client refuses to send: by hand.
    const missing = await refusedUpgrade(`https://127.0.0.1:${server.port}/portForward/default/missing`, {
      ca: ca.certPem,
      cert: apiServerCert.certPem,
      key: apiServerCert.keyPem,
      servername: 'node-1',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': PORT_FORWARD_TUNNEL },
    });
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).message, 'pods "missing" not found');
    await assert.rejects(session('/portForward/default/web', [], ['v5.channel.k8s.io']), /^Error: 400 .*needs the SPDY\/3\.1\+portforward\.k8s\.io subprotocol/);
  });
});

describe("the agent's endpoint with anonymous metrics", () => {
  test('serves /metrics to anyone and still guards the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-agentserver-'));
    const ca = await createCertificateAuthority('test-ca');
    const serving = await issueCertificate(ca, { commonName: 'n', ips: ['127.0.0.1'], usage: 'server' });
    const server = await startAgentServer({
      nodeName: 'n',
      bindAddress: '127.0.0.1',
      port: 0,
      caCertPem: ca.certPem,
      serving,
      logs: new FakeLogSource(),
      usage: new FakeUsageSource(),
      filesystemPath: dir,
      anonymousMetrics: true,
    });
    try {
      const fetchStatus = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: server.port, path, ca: ca.certPem }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await fetchStatus('/metrics'), 200);
      assert.equal(await fetchStatus('/stats/summary'), 401);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

});
