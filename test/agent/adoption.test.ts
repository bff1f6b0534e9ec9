// The agent keeps no state of its own: killed with SIGKILL and started again, it rebuilds its
// view from the labels of its containers. No container restarts, no restart count changes, the
// pods stay Ready, and work that arrived meanwhile is picked up. Stopping the agent leaves the
// pods running. The agent runs as a child process here (`skiff agent …`).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { AgentHarness } from './harness.js';
import { condition, containerStatus, shell, startAgentHarness } from './harness.js';

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('agent: adoption after kill -9', () => {
  let h: AgentHarness;
  before(async () => {
    h = await startAgentHarness({ startAgent: false });
  });
  after(async () => {
    await h?.close();
  });

  test('a restarted agent adopts its containers: same containers, same restart counts, still Ready', async () => {
    const image = h.docker.busyboxImage;
    const first = h.spawnAgent();
    await h.createPod({
      metadata: { name: 'steady' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          shell('web', image, 'mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www', {
            readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
            livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }),
          shell('side', image, 'exec sleep 3600'),
        ],
      },
    });
    await h.createPod({
      metadata: { name: 'restarted-once' },
      spec: {
        nodeName: h.nodeName,
        volumes: [{ name: 'state', hostPath: { path: `${h.dataDir}/restarted-once`, type: 'DirectoryOrCreate' } }],
        containers: [
          shell('main', image, 'if [ -f /state/ran ]; then exec sleep 3600; fi; touch /state/ran; exit 1', {
            volumeMounts: [{ name: 'state', mountPath: '/state' }],
          }),
        ],
      },
    });
    const steady = await h.waitForPod('steady', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 40_000, 'Ready');
    // Its first run (`exit 1`) can be seen running, and Ready, for an instant: wait for the restart.
    const once = await h.waitForPod(
      'restarted-once',
      (p) => (condition(p, 'Ready') === 'True' && containerStatus(p, 'main')?.restartCount === 1 ? p : undefined),
      40_000,
      'Ready after one restart',
    );
    assert.equal(containerStatus(once, 'main').restartCount, 1);
    const before = new Map<string, any>();
    for (const pod of [steady, once]) for (const s of pod.status.containerStatuses) before.set(`${pod.metadata.name}/${s.name}`, s);
    const containersBefore = await h.docker.docker.listContainers({ all: true, filters: { label: [`skiff.node=${h.nodeName}`] } });

    first.kill('SIGKILL');
    await exited(first);
    // Work that arrives while the agent is away waits for it.
    await h.createPod({ metadata: { name: 'while-away' }, spec: { nodeName: h.nodeName, containers: [shell('main', image, 'exec sleep 3600')] } });

    let readyFlapped = false;
    const watcher = setInterval(async () => {
      for (const name of ['steady', 'restarted-once']) if (condition(await h.getPod(name), 'Ready') !== 'True') readyFlapped = true;
    }, 200);
    const second = h.spawnAgent();
    try {
      await h.waitForPod('while-away', (p) => (p.status?.phase === 'Running' ? p : undefined), 40_000, 'Running after the restart');
      // Let the adopted pods go through several syncs and probe rounds.
      await new Promise((r) => setTimeout(r, 4000));
    } finally {
      clearInterval(watcher);
    }
    for (const name of ['steady', 'restarted-once']) {
      const pod = await h.getPod(name);
      assert.equal(condition(pod, 'Ready'), 'True', name);
      for (const s of pod.status.containerStatuses) {
        const old = before.get(`${name}/${s.name}`);
        assert.equal(s.containerID, old.containerID, `${name}/${s.name} container`);
        assert.equal(s.restartCount, old.restartCount, `${name}/${s.name} restart count`);
        assert.equal(s.state.running?.startedAt, old.state.running?.startedAt, `${name}/${s.name} start time`);
      }
    }
    assert.equal(readyFlapped, false, 'Ready stayed True while the agent restarted');
    const containersAfter = await h.docker.docker.listContainers({ all: true, filters: { label: [`skiff.node=${h.nodeName}`] } });
    const adopted = containersAfter.filter((c) => c.Labels['io.kubernetes.pod.name'] !== 'while-away').map((c) => c.Id).sort();
    assert.deepEqual(adopted, containersBefore.map((c) => c.Id).sort());

    // SIGTERM stops the agent cleanly; its pods keep running.
    second.kill('SIGTERM');
    assert.equal(await exited(second), 0);
    const running = await h.docker.docker.listContainers({ filters: { label: [`skiff.node=${h.nodeName}`] } });
    assert.equal(running.length, containersAfter.filter((c) => c.State === 'running').length);
  });
});
