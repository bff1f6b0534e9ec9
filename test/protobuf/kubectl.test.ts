// The machine's real kubectl against a real Skiff server, through a proxy that keeps the bytes it
// sends. Its typed-client commands POST protobuf; each decoded body must equal the JSON the
// same command prints with `--dry-run=client -o json`, and the stored object must carry every
// field kubectl set.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from '../../controlplane/apiserver/protobuf.js';
import { startRecordingProxy } from './recording-proxy.js';
import type { RecordedRequest, RecordingProxy } from './recording-proxy.js';

type Json = Record<string, unknown>;

/**
 * `actual` has every value `expected` sets (server defaults may add more). A null or an empty
 * object in `expected` is a Go zero (`creationTimestamp: null`, `status: {}`) the server may fill
 * in or leave out.
 */
function assertCarries(actual: unknown, expected: unknown, path = ''): void {
  if (expected === null) return;
  if (typeof expected === 'object' && !Array.isArray(expected) && Object.keys(expected).length === 0 && actual === undefined) return;
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertCarries(actual[i], e, `${path}[${i}]`));
  } else if (typeof expected === 'object') {
    assert.ok(typeof actual === 'object' && actual !== null && !Array.isArray(actual), `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertCarries((actual as Json)[k], v, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

describe('kubectl sends protobuf, Skiff decodes it', () => {
  let c: TestCluster;
  let proxy: RecordingProxy;

  before(async () => {
    c = await startTestCluster();
    proxy = await startRecordingProxy(c);
  });
  after(async () => {
    await proxy?.close();
    await c?.close();
  });

  async function dryRun(args: string[]): Promise<Json> {
    const end = args.includes('--') ? args.indexOf('--') : args.length; // flags go before the command
    const r = await c.kubectl([...args.slice(0, end), '--dry-run=client', '-o', 'json', ...args.slice(end)]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Json;
  }

  /** Runs kubectl through the proxy; returns what it wrote (method `method`) and its result. */
  async function run(args: string[], method = 'POST'): Promise<{ sent: RecordedRequest; code: number; stderr: string }> {
    const start = proxy.requests.length;
    const r = await c.kubectl([`--server=${proxy.url}`, ...args]);
    const writes = proxy.requests.slice(start).filter((req) => req.method === method);
    assert.equal(writes.length, 1, `one ${method} from kubectl ${args.join(' ')}: ${r.stderr}`);
    return { sent: writes[0]!, code: r.code, stderr: r.stderr };
  }

  /** The command's protobuf body decodes to exactly its dry-run JSON; returns that JSON. */
  async function sendsAsJson(args: string[]): Promise<{ expected: Json; sent: RecordedRequest; code: number; stderr: string }> {
    const expected = await dryRun(args);
    const result = await run(args);
    assert.equal(result.sent.contentType, PROTOBUF_MEDIA_TYPE, `kubectl ${args.join(' ')} sent ${result.sent.contentType}`);
    assert.deepEqual(decodeProtobufObject(result.sent.body, String(expected['kind'])), expected);
    return { expected, ...result };
  }

  /** As sendsAsJson, and the server stored the object with every field kubectl set. */
  async function creates(args: string[], path: string): Promise<Json> {
    const { expected, sent, code, stderr } = await sendsAsJson(args);
    assert.equal(code, 0, stderr);
    assert.equal(sent.status, 201);
    const stored = await c.api<Json>('GET', path);
    assert.equal(stored.status, 200);
    assertCarries(stored.body, expected);
    return stored.body;
  }

  test('create namespace', async () => {
    const ns = await creates(['create', 'namespace', 'pb'], '/api/v1/namespaces/pb');
    assert.equal((ns['status'] as Json)['phase'], 'Active');
  });

  test('create configmap from literals and from files, text and binary', async () => {
    const text = join(c.dataDir, 'settings.conf');
    const binary = join(c.dataDir, 'logo.bin');
    await writeFile(text, 'color=blue\n');
    await writeFile(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]));
    const cm = await creates(
      ['create', 'configmap', 'settings', '-n', 'pb', '--from-literal=a=b', `--from-file=${text}`, `--from-file=${binary}`],
      '/api/v1/namespaces/pb/configmaps/settings',
    );
    assert.deepEqual(cm['data'], { a: 'b', 'settings.conf': 'color=blue\n' });
    assert.deepEqual(cm['binaryData'], { 'logo.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]).toString('base64') });
  });

  test('create secret generic: data is the base64 of the value', async () => {
    const secret = await creates(
      ['create', 'secret', 'generic', 'db', '-n', 'pb', '--from-literal=password=hunter2', '--from-literal=user=admin'],
      '/api/v1/namespaces/pb/secrets/db',
    );
    assert.deepEqual(secret['data'], { password: Buffer.from('hunter2').toString('base64'), user: Buffer.from('admin').toString('base64') });
    assert.equal(secret['type'], 'Opaque');
  });

  test('create deployment with replicas and a port', async () => {
    const d = await creates(['create', 'deployment', 'web', '-n', 'pb', '--image=nginx', '--replicas=3', '--port=80'], '/apis/apps/v1/namespaces/pb/deployments/web');
    const spec = d['spec'] as { replicas: number; template: { spec: { containers: { ports: unknown[] }[] } } };
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.template.spec.containers[0]!.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  test('create service nodeport', async () => {
    const svc = await creates(['create', 'service', 'nodeport', 'x', '-n', 'pb', '--tcp=80:8080'], '/api/v1/namespaces/pb/services/x');
    const port = (svc['spec'] as { ports: { port: number; targetPort: unknown; nodePort: number }[] }).ports[0]!;
    assert.equal(port.port, 80);
    assert.equal(port.targetPort, 8080);
    assert.ok(port.nodePort >= 30000 && port.nodePort <= 32767);
  });

  test('create job with a command', async () => {
    const job = await creates(['create', 'job', 'j', '-n', 'pb', '--image=busybox', '--', 'echo', 'hi'], '/apis/batch/v1/namespaces/pb/jobs/j');
    const container = (job['spec'] as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!;
    assert.deepEqual(container.command, ['echo', 'hi']);
  });

  test('create cronjob with a schedule and a command', async () => {
    const cronJob = await creates(['create', 'cronjob', 'cj', '-n', 'pb', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'], '/apis/batch/v1/namespaces/pb/cronjobs/cj');
    assert.equal((cronJob['spec'] as { schedule: string }).schedule, '*/5 * * * *');
  });

  test('autoscale a deployment (an autoscaling/v1 HorizontalPodAutoscaler)', async () => {
    const hpa = await creates(['autoscale', 'deployment', 'web', '-n', 'pb', '--min=2', '--max=5', '--cpu-percent=80'], '/apis/autoscaling/v1/namespaces/pb/horizontalpodautoscalers/web');
    assert.equal((hpa['spec'] as { targetCPUUtilizationPercentage: number }).targetCPUUtilizationPercentage, 80);
  });

  test('create poddisruptionbudget (policy/v1)', async () => {
    const pdb = await creates(['create', 'poddisruptionbudget', 'pdb', '-n', 'pb', '--selector=app=web', '--min-available=50%'], '/apis/policy/v1/namespaces/pb/poddisruptionbudgets/pdb');
    assert.equal((pdb['spec'] as { minAvailable: string }).minAvailable, '50%');
  });

  test('create quota (ResourceQuota)', async () => {
    const quota = await creates(['create', 'quota', 'q', '-n', 'pb', '--hard=cpu=1,memory=1Gi,pods=10'], '/api/v1/namespaces/pb/resourcequotas/q');
    assert.deepEqual((quota['spec'] as { hard: Json }).hard, { cpu: '1', memory: '1Gi', pods: '10' });
  });

  test('create serviceaccount', async () => {
    await creates(['create', 'serviceaccount', 'robot', '-n', 'pb'], '/api/v1/namespaces/pb/serviceaccounts/robot');
  });

  test('run and expose (kubectl v1.32 sends these as JSON) still work beside protobuf', async () => {
    const runArgs = ['run', 'p', '-n', 'pb', '--image=busybox', '--labels=a=b', '--env=X=1', '--port=80', '--', 'sleep', '10'];
    const expected = await dryRun(runArgs);
    const ran = await run(runArgs);
    assert.equal(ran.code, 0, ran.stderr);
    if (ran.sent.contentType === PROTOBUF_MEDIA_TYPE) assert.deepEqual(decodeProtobufObject(ran.sent.body, 'Pod'), expected);
    assertCarries((await c.api('GET', '/api/v1/namespaces/pb/pods/p')).body, expected);

    const exposeArgs = ['expose', 'deployment', 'web', '-n', 'pb', '--port=80'];
    const exposed = await run(exposeArgs);
    assert.equal(exposed.code, 0, exposed.stderr);
    const svc = await c.api<Json>('GET', '/api/v1/namespaces/pb/services/web');
    assert.deepEqual((svc.body['spec'] as Json)['selector'], { app: 'web' });
  });

  test('kinds Skiff does not serve yet decode all the same (the server then answers 404)', async () => {
    for (const args of [
      ['create', 'role', 'reader', '-n', 'pb', '--verb=get,list', '--resource=pods'],
      ['create', 'rolebinding', 'read', '-n', 'pb', '--role=reader', '--user=alice', '--serviceaccount=pb:robot'],
      ['create', 'ingress', 'ing', '-n', 'pb', '--rule=example.com/api*=web:80,tls=cert'],
      ['create', 'priorityclass', 'high', '--value=1000', '--description=important'],
    ]) {
      const { sent } = await sendsAsJson(args);
      assert.equal(sent.status, 404, `kubectl ${args.join(' ')}`);
    }
  });

  test('drain evicts with a policy/v1 Eviction (kubectl v1.32 sends it as JSON)', async () => {
    assert.equal((await c.api('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } } })).status, 201);
    const pod = await c.api('POST', '/api/v1/namespaces/pb/pods', {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'evicted' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'busybox' }] } },
    });
    assert.equal(pod.status, 201);
    // No agent runs the pod, so it stays terminating and drain gives up after its timeout.
    const { sent } = await run(['drain', 'n2', '--force', '--grace-period=7', '--timeout=1s'], 'POST');
    assert.equal(sent.path, '/api/v1/namespaces/pb/pods/evicted/eviction');
    const body = sent.contentType === PROTOBUF_MEDIA_TYPE ? decodeProtobufObject(sent.body, 'Eviction') : (JSON.parse(sent.body.toString('utf8')) as Json);
    assertCarries(body, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evicted', namespace: 'pb' }, deleteOptions: { gracePeriodSeconds: 7 } });
    assert.equal(sent.status, 201);
    const after = await c.api<{ metadata: Json }>('GET', '/api/v1/namespaces/pb/pods/evicted');
    assert.equal(after.body.metadata['deletionGracePeriodSeconds'], 7);
  });

  test('drain --disable-eviction deletes with protobuf DeleteOptions', async () => {
    const node = await c.api('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } });
    assert.equal(node.status, 201);
    const pod = await c.api('POST', '/api/v1/namespaces/pb/pods', {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } },
    });
    assert.equal(pod.status, 201);
    // No agent runs the pod, so it stays terminating and drain gives up after its timeout.
    const { sent } = await run(['drain', 'n1', '--force', '--disable-eviction', '--grace-period=7', '--timeout=1s'], 'DELETE');
    assert.equal(sent.contentType, PROTOBUF_MEDIA_TYPE);
    assert.equal(sent.path, '/api/v1/namespaces/pb/pods/bound');
    assert.deepEqual(decodeProtobufObject(sent.body, 'DeleteOptions'), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 7 });
    assert.equal(sent.status, 200);
    const after = await c.api<{ metadata: Json }>('GET', '/api/v1/namespaces/pb/pods/bound');
    assert.equal(after.status, 200);
    assert.equal(after.body.metadata['deletionGracePeriodSeconds'], 7);
  });

  test('a malformed protobuf body is a 400 Status', async () => {
    const res = await c.api<Json>('POST', '/api/v1/namespaces', {
      body: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"json"}}',
      headers: { 'content-type': PROTOBUF_MEDIA_TYPE },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body['reason'], 'BadRequest');
    assert.match(String(res.body['message']), /^the object provided is unrecognized \(must be of type Namespace\): provided data does not appear to be a protobuf message/);
  });
});
