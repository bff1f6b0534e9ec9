// `skiff up` as a user runs it: one process with the server, the scheduler and controllers, and
// an agent for this host that joined over loopback; a pod created without a node is scheduled,
// runs on Docker, and `kubectl logs` and `kubectl top` reach it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, KUBECTL } from '../helpers/cluster.js';
import type { KubectlResult } from '../helpers/cluster.js';
import { acquireTestDocker, removeLabelled } from '../helpers/docker.js';
import type { TestDocker } from '../helpers/docker.js';
import { runSkiff } from '../helpers/skiff-process.js';
import type { SkiffProcess } from '../helpers/skiff-process.js';

describe('skiff up', () => {
  let docker: TestDocker;
  let dir: string;
  let up: SkiffProcess;
  const nodeName = `up-${randomBytes(3).toString('hex')}`;

  function kubectl(args: string[], input = ''): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(KUBECTL, [`--kubeconfig=${join(dir, 'admin.kubeconfig')}`, `--cache-dir=${join(dir, 'kubectl-cache')}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  before(async () => {
    docker = await acquireTestDocker();
    dir = await mkdtemp(join(tmpdir(), 'skiff-up-'));
    up = runSkiff([
      'up',
      '--data-dir', dir,
      '--bind-address', '127.0.0.1',
      '--port', '0',
      '--agent-port', '0',
      '--node-ip', '127.0.0.1',
      '--node-name', nodeName,
      '--docker-host', `unix://${docker.socketPath}`,
      '--pod-infra-image', docker.pauseImage,
      '--log-level', 'warn',
    ]);
    await eventually(async () => {
      if (up.child.exitCode !== null) throw new Error(`skiff up exited: ${up.output()}`);
      await access(join(dir, 'admin.kubeconfig'));
      const nodes = await kubectl(['get', 'node', nodeName, '--no-headers']);
      return /\sReady\s/.test(nodes.stdout) ? true : undefined;
    }, 60_000, 'the node to be Ready');
  });

  after(async () => {
    await up?.stop();
    if (docker) await removeLabelled(docker.docker, `skiff.node=${nodeName}`);
    await rm(dir, { recursive: true, force: true });
    await docker?.release();
  });

  test('the agent joined with its own identity, its node password and a serving certificate', async () => {
    const secret = await kubectl(['get', 'secret', '-n', 'kube-system', `${nodeName}.node-password.skiff`, '-o', 'name']);
    assert.equal(secret.code, 0, secret.stderr);
    const credential = JSON.parse(await readFile(join(dir, 'agent/credentials/node-credential.json'), 'utf8')) as { nodeName: string; token: string };
    assert.equal(credential.nodeName, nodeName);
    assert.match(credential.token, new RegExp(`^skiff-node:${nodeName}:`));
  });

  test('a pod without a node is scheduled here, runs, and kubectl logs and top reach it', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello' },
      spec: { containers: [{ name: 'hello', image: docker.busyboxImage, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo hello from skiff up; exec sleep 3600'] }] },
    });
    const created = await kubectl(['apply', '-f', '-'], manifest);
    assert.equal(created.code, 0, created.stderr);
    await eventually(async () => {
      const get = await kubectl(['get', 'pod', 'hello', '--no-headers', '-o', 'wide']);
      return /\s1\/1\s+Running\s/.test(get.stdout) && get.stdout.includes(nodeName) ? true : undefined;
    }, 60_000, 'hello to run');
    const logs = await kubectl(['logs', 'hello']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'hello from skiff up\n');
    const top = await eventually(async () => {
      const out = await kubectl(['top', 'pod', 'hello', '--no-headers']);
      return out.code === 0 ? out.stdout : undefined;
    }, 30_000, 'kubectl top pod');
    assert.match(top, /^hello\s+\d+m\s+\d+Mi/);
  });

  test('stops cleanly on SIGTERM', async () => {
    await up.stop();
    assert.equal(up.child.exitCode, 0, up.output());
  });
});
