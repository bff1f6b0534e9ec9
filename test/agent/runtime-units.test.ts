import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { DockerDemux, demuxBuffer } from '../../agent/runtime/demux.js';
import type Docker from 'dockerode';
import { AgentMetrics } from '../../agent/metrics.js';
import { dockerErrorMessage, dockerFromHost, Engine } from '../../agent/runtime/engine.js';
import { dockerLogOptions } from '../../agent/runtime/logs.js';
import { gatewayOf, podNetworkName } from '../../agent/runtime/network.js';
import { workingSetBytes } from '../../agent/runtime/stats.js';
import { probeUrl } from '../../agent/probes/http.js';
import { resolvePort } from '../../agent/probes/outcome.js';
import { pullPolicy } from '../../agent/pods/start.js';
import { startAgent } from '../../agent/agent.js';
import { startAgentServer } from '../../agent/server/server.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('runtime helpers', () => {
  test('dockerode loads without the gRPC (BuildKit session) and ssh2 transports the agent never uses; the agent loads no WebSocket or SPDY code until a session', () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    assert.ok(loaded.some((path) => path.includes('/dockerode/lib/docker.js')), 'dockerode itself is loaded');
    assert.ok(loaded.some((path) => path.includes('/docker-modem/lib/modem.js')), 'docker-modem itself is loaded');
    const heavy = loaded.filter((path) => /\/node_modules\/(@grpc|protobufjs|ssh2)\//.test(path));
    assert.deepEqual(heavy, []);
    // exec, attach and port-forward load theirs with the first session, not at start.
    assert.equal(typeof startAgent, 'function');
    assert.equal(typeof startAgentServer, 'function');
    assert.deepEqual(loaded.filter((path) => /\/node_modules\/(ws|spdy-transport)\//.test(path)), []);
    assert.throws(() => dockerFromHost('ssh://root@example.invalid'), /unsupported --docker-host/);
  });

  test('demultiplexing Docker streams, frames split anywhere', async () => {
    const whole = Buffer.concat([frame(1, 'out line\n'), frame(2, 'err line\n'), frame(1, 'more\n')]);
    assert.equal(demuxBuffer(whole).toString(), 'out line\nerr line\nmore\n');
    const demux = new DockerDemux();
    const input = new PassThrough();
    input.pipe(demux);
    let out = '';
    demux.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < whole.length; i += 3) input.write(whole.subarray(i, i + 3));
    input.end();
    await new Promise((r) => demux.on('end', r));
    assert.equal(out, 'out line\nerr line\nmore\n');
    assert.equal(demuxBuffer(Buffer.from('raw tty text')).toString(), 'raw tty text');
  });

  test('log options map to Docker query parameters', () => {
    assert.deepEqual(dockerLogOptions({}), { stdout: true, stderr: true, timestamps: false, tail: 'all' });
    const q = dockerLogOptions({ tailLines: 5, timestamps: true, sinceSeconds: 60 }, 1_000_000);
    assert.equal(q['tail'], '5');
    assert.equal(q['timestamps'], true);
    assert.equal(q['since'], '940.000');
    assert.equal(dockerLogOptions({ sinceTime: '2026-01-01T00:00:00Z' })['since'], (Date.parse('2026-01-01T00:00:00Z') / 1000).toFixed(3));
  });

  test('pod network: gateway is the first address; names per node', () => {
    assert.equal(gatewayOf('10.42.3.0/24'), '10.42.3.1');
    assert.equal(gatewayOf('10.42.3.77/24'), '10.42.3.1');
    assert.equal(gatewayOf('172.16.0.0/12'), '172.16.0.1');
    assert.throws(() => gatewayOf('10.0.0.0/31'), /room for pods/);
    assert.equal(podNetworkName('node-a'), 'skiff-node-a');
  });

  test('Docker hosts and error messages', () => {
    assert.equal((dockerFromHost('unix:///run/docker.sock').modem as unknown as { socketPath: string }).socketPath, '/run/docker.sock');
    assert.equal((dockerFromHost('tcp://127.0.0.1:2375').modem as unknown as { port: number }).port, 2375);
    assert.throws(() => dockerFromHost('ssh://x'), /unsupported --docker-host/);
    assert.equal(dockerErrorMessage({ statusCode: 404, json: { message: 'No such image: x' }, message: '(HTTP code 404) no such image - No such image: x ' }), 'No such image: x');
  });

  test('memory working set subtracts inactive file pages (cgroup v1 and v2)', () => {
    assert.equal(workingSetBytes({ memory_stats: { usage: 1000, stats: { total_inactive_file: 300 } } }), 700);
    assert.equal(workingSetBytes({ memory_stats: { usage: 1000, stats: { inactive_file: 100 } } }), 900);
    assert.equal(workingSetBytes({ memory_stats: { usage: 10, stats: { inactive_file: 100 } } }), 0);
  });

  test('probe targets: named and numbered ports, scheme, host', () => {
    const c = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };
    assert.equal(resolvePort('http', c), 8080);
    assert.equal(resolvePort(9000, c), 9000);
    assert.throws(() => resolvePort('metrics', c), /port "metrics" not found in container web/);
    assert.equal(probeUrl({ port: 'http', path: 'healthz' }, c, '10.42.0.5'), 'http://10.42.0.5:8080/healthz');
    assert.equal(probeUrl({ port: 8443, scheme: 'HTTPS', host: '127.0.0.1' }, c, '10.42.0.5'), 'https://127.0.0.1:8443/');
  });

  test('image pull policy defaults as the API server sets them', () => {
    assert.equal(pullPolicy({ name: 'a', image: 'busybox' }), 'Always');
    assert.equal(pullPolicy({ name: 'a', image: 'busybox:latest' }), 'Always');
    assert.equal(pullPolicy({ name: 'a', image: 'busybox:1.36' }), 'IfNotPresent');
    assert.equal(pullPolicy({ name: 'a', image: 'localhost:5000/app' }), 'Always');
    assert.equal(pullPolicy({ name: 'a', image: 'app@sha256:abc' }), 'IfNotPresent');
    assert.equal(pullPolicy({ name: 'a', image: 'busybox', imagePullPolicy: 'Never' }), 'Never');
  });

  test('container removals run at most four at a time; failures are counted by operation', async () => {
    const metrics = new AgentMetrics();
    const engine = new Engine({} as Docker, metrics);
    let now = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        engine.call('remove_container', async () => {
          peak = Math.max(peak, ++now);
          await new Promise((r) => setTimeout(r, 5));
          now--;
        }),
      ),
    );
    assert.equal(peak, 4);
    await assert.rejects(engine.call('start_container', async () => Promise.reject(Object.assign(new Error('boom'), { statusCode: 500 }))));
    await assert.rejects(engine.call('inspect_container', async () => Promise.reject(Object.assign(new Error('gone'), { statusCode: 404 }))));
    const text = await metrics.registry.metrics();
    assert.match(text, /skiff_agent_docker_operation_errors_total\{operation="start_container"\} 1/);
    assert.doesNotMatch(text, /skiff_agent_docker_operation_errors_total\{operation="inspect_container"\}/);
  });
});
