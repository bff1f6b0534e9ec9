// `kubectl logs` and `kubectl top` end to end: the real kubectl, a real control plane, an agent
// that joined with the node token (so it runs as system:node:<name>), its HTTPS endpoint, and
// busybox containers on a real Docker engine.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { eventually, KUBECTL, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { acquireTestDocker } from '../helpers/docker.js';
import type { TestDocker } from '../helpers/docker.js';
import { startJoinedAgent } from '../helpers/joined-agent.js';
import type { JoinedAgent } from '../helpers/joined-agent.js';

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /;

function shell(name: string, image: string, script: string) {
  return { name, image, imagePullPolicy: 'Never', command: ['sh', '-c', script] };
}

describe('kubectl logs and top against a real agent on Docker', () => {
  let docker: TestDocker;
  let cluster: TestCluster;
  let joined: JoinedAgent;
  const nodeName = `logs-${randomBytes(3).toString('hex')}`;

  const kubectl = (args: string[]) => cluster.kubectl(args);
  const pod = async (name: string) => (await cluster.api('GET', `/api/v1/namespaces/default/pods/${name}`)).body;

  before(async () => {
    docker = await acquireTestDocker();
    cluster = await startTestCluster();
    // Until the scheduler and nodeipam run here, the test gives the node its pod CIDR.
    joined = await startJoinedAgent(cluster, docker, nodeName, {
      agent: { crashLoopBackOff: { initialMs: 1000, maxMs: 4000 } },
      podCidr: `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 256)}.0/24`,
    });

    const image = docker.busyboxImage;
    const pods = [
      {
        metadata: { name: 'talker' },
        spec: {
          nodeName,
          containers: [
            shell('counter', image, 'i=0; while true; do i=$((i+1)); echo "line $i"; if [ $((i % 5)) -eq 0 ]; then echo "err $i" >&2; fi; sleep 0.1; done'),
            shell('quiet', image, 'echo quiet-started; exec sleep 3600'),
          ],
        },
      },
      { metadata: { name: 'crasher' }, spec: { nodeName, containers: [shell('once', image, 'echo "run $(cat /proc/sys/kernel/random/uuid)"; sleep 1; exit 3')] } },
    ];
    for (const p of pods) {
      const res = await cluster.api('POST', '/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', ...p } });
      assert.equal(res.status, 201, res.text);
    }
    await eventually(async () => ((await pod('talker')).status?.containerStatuses?.every((s: { ready: boolean }) => s.ready) ? true : undefined), 60_000, 'talker to run');
  });

  after(async () => {
    await joined?.close();
    await cluster?.close();
    await docker?.release();
  });

  test('kubectl logs -c reads one container; stdout and stderr are demultiplexed', async () => {
    const quiet = await kubectl(['logs', 'talker', '-c', 'quiet']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, 'quiet-started\n');
    const counter = await eventually(async () => {
      const out = await kubectl(['logs', 'talker', '-c', 'counter']);
      return out.stdout.includes('line 6\n') ? out : undefined;
    }, 10_000, 'five lines');
    // Docker copies stdout and stderr on separate paths: each stream keeps its order, but an
    // stderr line may land next to the stdout line written just before or after it.
    const lines = counter.stdout.split('\n').filter(Boolean);
    assert.deepEqual(lines.filter((l) => l.startsWith('line ')).slice(0, 6), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    assert.ok(lines.includes('err 5'), 'stderr is there too');
    assert.ok(![...counter.stdout].some((ch) => ch.charCodeAt(0) < 9), 'no Docker stream headers (their first bytes are 1, 2 and 0)');
  });

  test('--tail, --timestamps, --limit-bytes', async () => {
    const tail = await kubectl(['logs', 'talker', '-c', 'counter', '--tail=2']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.split('\n').filter(Boolean).length, 2);
    const stamped = await kubectl(['logs', 'talker', '-c', 'counter', '--tail=3', '--timestamps']);
    const lines = stamped.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, RFC3339_NANO);
    const limited = await kubectl(['logs', 'talker', '-c', 'counter', '--limit-bytes=9']);
    assert.equal(limited.stdout, 'line 1\nli');
  });

  test('--since and --since-time keep only recent lines', async () => {
    // Three seconds of output first, so that the last second is clearly a part of it.
    const all = await eventually(async () => {
      const lines = (await kubectl(['logs', 'talker', '-c', 'counter'])).stdout.split('\n').filter(Boolean);
      return lines.length >= 30 ? lines : undefined;
    }, 20_000, 'three seconds of output');
    const recent = await kubectl(['logs', 'talker', '-c', 'counter', '--since=1s']);
    assert.equal(recent.code, 0, recent.stderr);
    const recentLines = recent.stdout.split('\n').filter(Boolean);
    assert.ok(recentLines.length > 0 && recentLines.length < all.length, `${recentLines.length} of ${all.length} lines in the last second`);
    assert.ok(recentLines.length <= 15, `about ten lines a second, got ${recentLines.length}`);
    const future = await kubectl(['logs', 'talker', '-c', 'counter', `--since-time=${new Date(Date.now() + 60_000).toISOString()}`]);
    assert.equal(future.code, 0, future.stderr);
    assert.equal(future.stdout, '');
  });

  test('kubectl logs -f streams new lines as they are written', async () => {
    // The last stdout line: an `err N` line from stderr may come last, so look at a few.
    const recent = (await kubectl(['logs', 'talker', '-c', 'counter', '--tail=4'])).stdout;
    const start = Math.max(...[...recent.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1])));
    assert.ok(Number.isFinite(start), `a line number in ${JSON.stringify(recent)}`);
    const child = spawn(KUBECTL, [`--kubeconfig=${cluster.controlPlane.kubeconfigPath}`, 'logs', '-f', 'talker', '-c', 'counter', '--tail=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await eventually(() => (new RegExp(`^line ${start + 10}$`, 'm').test(stdout) ? true : undefined), 15_000, 'ten new lines through the follow');
    } finally {
      child.kill('SIGINT');
    }
  });

  test('--previous shows the last instance of a restarted container', async () => {
    await eventually(async () => ((await pod('crasher')).status?.containerStatuses?.[0]?.restartCount >= 1 ? true : undefined), 30_000, 'a restart');
    const previous = await eventually(async () => {
      const out = await kubectl(['logs', 'crasher', '--previous']);
      return out.code === 0 && /^run [0-9a-f-]{36}\n$/.test(out.stdout) ? out.stdout : undefined;
    }, 15_000, 'the previous instance log');
    const current = await eventually(async () => {
      const out = await kubectl(['logs', 'crasher']);
      return out.code === 0 && /^run [0-9a-f-]{36}\n$/.test(out.stdout) ? out.stdout : undefined;
    }, 15_000, 'the current instance log');
    assert.notEqual(previous, current);
  });

  test('kubectl top nodes and pods', async () => {
    const nodes = await eventually(async () => {
      const out = await kubectl(['top', 'nodes', '--no-headers']);
      return out.code === 0 && out.stdout.includes(nodeName) ? out.stdout : undefined;
    }, 30_000, 'kubectl top nodes');
    assert.match(nodes, new RegExp(`^${nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'));
    const pods = await eventually(async () => {
      const out = await kubectl(['top', 'pods', '--no-headers']);
      return out.code === 0 && /^talker\s/m.test(out.stdout) ? out.stdout : undefined;
    }, 30_000, 'kubectl top pods');
    assert.match(pods, /^talker\s+\d+m\s+\d+Mi\s*$/m);
    const containers = await kubectl(['top', 'pod', 'talker', '--containers', '--no-headers']);
    assert.equal(containers.code, 0, containers.stderr);
    assert.match(containers.stdout, /^talker\s+counter\s+\d+m\s+\d+Mi/m);
    assert.match(containers.stdout, /^talker\s+quiet\s+\d+m\s+\d+Mi/m);
  });

  test("the agent's endpoint refuses callers without the API server's certificate", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: joined.endpoint.port, path: '/containerLogs/default/talker/counter', ca: cluster.controlPlane.caCertPem },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);
  });
});
