// `kubectl logs` and `kubectl top` through the API server to an agent endpoint whose log and
// usage sources are fakes: the API server's half (container choice, option checks, streaming,
// metrics.k8s.io) without Docker. test/e2e/logs-top.test.ts runs the same on a real engine.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinCluster } from '../../agent/bootstrap/join.js';
import { startAgentServer } from '../../agent/server/server.js';
import type { AgentServer } from '../../agent/server/server.js';
import { eventually, KUBECTL, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { FakeLogSource, FakeUsageSource } from './fakes.js';

const MERGE = { 'content-type': 'application/merge-patch+json' };

function pod(name: string, containers: string[], extra: { nodeName?: string; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name }, annotations: extra.annotations },
    spec: { nodeName: extra.nodeName, containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
  };
}

describe('pods/log and metrics.k8s.io through the API server', () => {
  let cluster: TestCluster;
  let dir: string;
  let agent: AgentServer;
  let nodeToken: string;
  const logs = new FakeLogSource();
  const usage = new FakeUsageSource([
    { namespace: 'default', name: 'web', containers: [{ name: 'app', cpuNanoCores: 1_500_000, memoryWorkingSetBytes: 1_228_800 }] },
    {
      namespace: 'default',
      name: 'two',
      containers: [
        { name: 'a', cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 64 * 1024 * 1024 },
        { name: 'b', cpuNanoCores: 12_345, memoryWorkingSetBytes: 4096 },
      ],
    },
  ]);

  before(async () => {
    cluster = await startTestCluster();
    dir = await mkdtemp(join(tmpdir(), 'skiff-proxy-'));
    const credentials = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-1', nodeIp: '127.0.0.1', dataDir: dir });
    nodeToken = credentials.token;
    agent = await startAgentServer({
      nodeName: 'node-1',
      bindAddress: '127.0.0.1',
      port: 0,
      caCertPem: credentials.caCertPem,
      serving: credentials.serving,
      logs,
      usage,
      filesystemPath: dir,
      usageSampleIntervalMs: 200,
    });
    // The node registers itself, as the agent does, publishing where its endpoint listens.
    const created = await cluster.api('POST', '/api/v1/nodes', { token: nodeToken, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { role: 'test' } } } });
    assert.equal(created.status, 201, created.text);
    const status = {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'ready', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
    };
    const patched = await cluster.api('PATCH', '/api/v1/nodes/node-1/status', { token: nodeToken, body: { status }, headers: MERGE });
    assert.equal(patched.status, 200, patched.text);
    for (const p of [
      pod('web', ['app'], { nodeName: 'node-1' }),
      pod('two', ['a', 'b'], { nodeName: 'node-1' }),
      pod('annotated', ['a', 'b'], { nodeName: 'node-1', annotations: { 'kubectl.kubernetes.io/default-container': 'b' } }),
      pod('unbound', ['app']),
    ]) {
      const res = await cluster.api('POST', '/api/v1/namespaces/default/pods', { body: p });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await agent.close();
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('kubectl logs reads the container of a one-container pod', async () => {
    const out = await cluster.kubectl(['logs', 'web']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'app line 1\napp line 2\n');
  });

  test('kubectl logs -c, --tail, --since, --timestamps, --previous, --limit-bytes reach the agent', async () => {
    const out = await cluster.kubectl(['logs', 'two', '-c', 'b', '--tail=1', '--since=10s', '--timestamps', '--previous', '--limit-bytes=64']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'b line 1\nb line 2\n');
    const call = logs.calls.at(-1)!;
    assert.equal(call.container, 'b');
    assert.deepEqual(call.options, { previous: true, timestamps: true, tailLines: 1, sinceSeconds: 10, limitBytes: 64 });
    const sinceTime = await cluster.kubectl(['logs', 'web', '--since-time=2026-01-02T03:04:05Z']);
    assert.equal(sinceTime.code, 0, sinceTime.stderr);
    assert.equal(logs.calls.at(-1)!.options.sinceTime, '2026-01-02T03:04:05.000Z');
  });

  test('the container defaults to the annotated one; several without a choice is a 400 listing them', async () => {
    const annotated = await cluster.api('GET', '/api/v1/namespaces/default/pods/annotated/log');
    assert.equal(annotated.status, 200);
    assert.equal(annotated.text, 'b line 1\nb line 2\n');
    const ambiguous = await cluster.api('GET', '/api/v1/namespaces/default/pods/two/log');
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.body.message, 'a container name must be specified for pod two, choose one of: [a b]');
    const wrong = await cluster.api('GET', '/api/v1/namespaces/default/pods/two/log?container=c');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.message, 'container c is not valid for pod two');
  });

  test('bad log options and unbound pods are refused as Kubernetes refuses them', async () => {
    const tail = await cluster.api('GET', '/api/v1/namespaces/default/pods/web/log?tailLines=-1');
    assert.equal(tail.status, 422);
    assert.equal(tail.body.message, 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    const both = await cluster.api('GET', '/api/v1/namespaces/default/pods/web/log?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z');
    assert.equal(both.status, 422);
    assert.match(both.body.message, /at most one of `sinceTime` or `sinceSeconds` may be specified/);
    assert.equal((await cluster.api('GET', '/api/v1/namespaces/default/pods/web/log?follow=maybe')).status, 400);
    const unbound = await cluster.api('GET', '/api/v1/namespaces/default/pods/unbound/log');
    assert.equal(unbound.status, 400);
    assert.equal(unbound.body.message, 'pod unbound does not have a host assigned');
    assert.equal((await cluster.api('GET', '/api/v1/namespaces/default/pods/nope/log')).status, 404);
    // Nodes do not read logs through the API.
    assert.equal((await cluster.api('GET', '/api/v1/namespaces/default/pods/web/log', { token: nodeToken })).status, 403);
  });

  test('kubectl logs -f streams until kubectl goes away, which ends the read on the agent', async () => {
    const before = logs.calls.length;
    const child = spawn(KUBECTL, [`--kubeconfig=${cluster.controlPlane.kubeconfigPath}`, 'logs', '-f', 'web'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await eventually(() => (stdout.includes('app line 5\n') ? true : undefined), 15_000, 'five streamed lines');
      assert.match(stdout, /^app line 1\napp line 2\napp line 3\napp line 4\napp line 5\n/);
    } finally {
      child.kill('SIGINT');
    }
    const call = logs.calls[before]!;
    assert.equal(call.options.follow, true);
    await eventually(() => (call.signal.aborted ? true : undefined), 10_000, 'the agent to stop reading when kubectl left');
  });

  test('kubectl top nodes and pods read metrics.k8s.io', async () => {
    const nodes = await eventually(async () => {
      const out = await cluster.kubectl(['top', 'nodes', '--no-headers']);
      return out.code === 0 && out.stdout.includes('node-1') ? out : undefined;
    }, 15_000, 'kubectl top nodes');
    assert.match(nodes.stdout, /^node-1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/m);

    const pods = await cluster.kubectl(['top', 'pods']);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    assert.match(pods.stdout, /^web\s+2m\s+1Mi\s*$/m);
    assert.match(pods.stdout, /^two\s+251m\s+64Mi\s*$/m);
    const containers = await cluster.kubectl(['top', 'pod', 'two', '--containers']);
    assert.equal(containers.code, 0, containers.stderr);
    assert.match(containers.stdout, /^two\s+a\s+250m\s+64Mi\s*$/m);
    const selected = await cluster.kubectl(['top', 'pods', '-l', 'app=web', '--no-headers']);
    assert.equal(selected.stdout.trim().split('\n').length, 1);
  });

  test('NodeMetrics and PodMetrics carry Kubernetes quantities, timestamps and windows', async () => {
    const discovery = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1');
    assert.equal(discovery.status, 200);
    assert.deepEqual(discovery.body.resources.map((r: { name: string; kind: string }) => `${r.name}:${r.kind}`), ['nodes:NodeMetrics', 'pods:PodMetrics']);

    const node = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/node-1');
    assert.equal(node.status, 200, node.text);
    assert.equal(node.body.kind, 'NodeMetrics');
    assert.equal(node.body.metadata.labels.role, 'test');
    assert.match(node.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(node.body.window, /^\d+(\.\d+)?s$/);
    assert.match(node.body.usage.cpu, /^\d+[num]?$/);
    assert.match(node.body.usage.memory, /^\d+(Ki|Mi|Gi)?$/);

    const two = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/two');
    assert.equal(two.status, 200, two.text);
    assert.deepEqual(two.body.containers, [
      { name: 'a', usage: { cpu: '250m', memory: '64Mi' } },
      { name: 'b', usage: { cpu: '12345n', memory: '4Ki' } },
    ]);
    const all = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/pods');
    assert.equal(all.body.kind, 'PodMetricsList');
    assert.deepEqual(all.body.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort(), ['two', 'web']);

    const missingNode = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/node-9');
    assert.equal(missingNode.status, 404);
    assert.equal(missingNode.body.message, 'nodemetrics.metrics.k8s.io "node-9" not found');
    const missingPod = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/unbound');
    assert.equal(missingPod.status, 404);
    assert.equal(missingPod.body.message, 'podmetrics.metrics.k8s.io "default/unbound" not found');
    assert.equal((await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes?watch=true')).status, 405);
  });

  test('an unreachable agent: logs fail with the address tried, metrics leave the node out', async () => {
    // Port 1 on loopback: nothing listens there.
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' } };
    assert.equal((await cluster.api('POST', '/api/v1/nodes', { body: node })).status, 201);
    const status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } };
    assert.equal((await cluster.api('PATCH', '/api/v1/nodes/node-2/status', { body: { status }, headers: MERGE })).status, 200);
    assert.equal((await cluster.api('POST', '/api/v1/namespaces/default/pods', { body: pod('stranded', ['app'], { nodeName: 'node-2' }) })).status, 201);

    const logs = await cluster.api('GET', '/api/v1/namespaces/default/pods/stranded/log');
    assert.equal(logs.status, 500);
    assert.match(logs.body.message, /^Get "https:\/\/127\.0\.0\.1:1\/containerLogs\/default\/stranded\/app": .*ECONNREFUSED/);
    const nodes = await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    assert.equal(nodes.status, 200);
    assert.deepEqual(nodes.body.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['node-1']);
    assert.equal((await cluster.api('GET', '/apis/metrics.k8s.io/v1beta1/nodes/node-2')).status, 404);
  });
});
