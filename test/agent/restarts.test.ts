// Restart policies and CrashLoopBackOff on real containers: a memory limit ending in OOMKilled,
// restarts with growing back-off delays, and pods whose containers finish (Succeeded, Failed).

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentHarness } from './harness.js';
import { containerStatus, shell, startAgentHarness } from './harness.js';

describe('agent: restarts', () => {
  let h: AgentHarness;
  let image: string;
  before(async () => {
    h = await startAgentHarness();
    image = h.docker.busyboxImage;
  });
  after(async () => {
    await h?.close();
  });

  test('a container over its memory limit is OOMKilled', async () => {
    await h.createPod({
      metadata: { name: 'hungry' },
      spec: {
        nodeName: h.nodeName,
        restartPolicy: 'Never',
        containers: [shell('main', image, 'x=0123456789abcdef; while true; do x=$x$x; done', { resources: { limits: { memory: '16Mi' } } })],
      },
    });
    // Docker may handle the container's exit just before its OOM event: the agent first reports
    // the exit (reason Error), then refreshes the container on the 'oom' event. Wait for that.
    const pod = await h.waitForPod(
      'hungry',
      (p) => (p.status?.phase === 'Failed' && containerStatus(p, 'main')?.state?.terminated?.reason === 'OOMKilled' ? p : undefined),
      30_000,
      'Failed with OOMKilled',
    );
    const terminated = containerStatus(pod, 'main').state.terminated;
    assert.equal(terminated.reason, 'OOMKilled');
    assert.equal(terminated.exitCode, 137);
    const get = await h.cluster.kubectl(['get', 'pod', 'hungry', '--no-headers']);
    assert.match(get.stdout, /hungry\s+0\/1\s+OOMKilled\s+0/);
  });

  test('a crashing container restarts with growing delays (CrashLoopBackOff)', async () => {
    await h.createPod({ metadata: { name: 'crasher' }, spec: { nodeName: h.nodeName, containers: [shell('main', image, 'echo crashing; exit 3')] } });
    // Docker keeps the exact start and end times of each instance; the agent keeps the last two.
    const runs = new Map<string, { started: number; finished: number }>();
    const waitingMessages = new Set<string>();
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && runs.size < 5) {
      const listed = await h.docker.docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=crasher', 'io.kubernetes.container.name=main'] } });
      for (const c of listed) {
        const info = await h.docker.docker.getContainer(c.Id).inspect().catch(() => undefined);
        if (!info || info.State.Running || info.State.FinishedAt.startsWith('0001')) continue;
        runs.set(c.Id, { started: Date.parse(info.State.StartedAt), finished: Date.parse(info.State.FinishedAt) });
      }
      const pod = await h.getPod('crasher');
      const waiting = containerStatus(pod, 'main')?.state?.waiting;
      if (waiting?.reason === 'CrashLoopBackOff') waitingMessages.add(waiting.message);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ordered = [...runs.values()].sort((a, b) => a.started - b.started);
    assert.ok(ordered.length >= 5, `only ${ordered.length} runs seen`);
    const gaps = ordered.slice(1).map((run, i) => run.started - ordered[i]!.finished);
    // The first restart is immediate; then 1 s, 2 s, 4 s (the test's base is 1 s, doubling). The
    // lower bounds are the back-off; the upper ones leave room for a loaded Docker engine's create
    // and start.
    assert.ok(gaps[0]! < 2000, `gaps ${gaps}`);
    assert.ok(gaps[1]! >= 800 && gaps[1]! < 3500, `gaps ${gaps}`);
    assert.ok(gaps[2]! >= 1800 && gaps[2]! < 4800, `gaps ${gaps}`);
    assert.ok(gaps[3]! >= 3600 && gaps[3]! < 7500, `gaps ${gaps}`);
    const pod = await h.getPod('crasher');
    const uid = pod.metadata.uid;
    assert.ok(waitingMessages.has(`back-off 2s restarting failed container=main pod=crasher_default(${uid})`), [...waitingMessages].join('\n'));
    assert.equal(pod.status.phase, 'Running');
    const status = containerStatus(pod, 'main');
    assert.ok(status.restartCount >= 4);
    assert.equal(status.lastState.terminated.exitCode, 3);
    assert.equal(status.lastState.terminated.reason, 'Error');
    const previous = await h.agent!.logs.logs('default', 'crasher', 'main', { previous: true }, new AbortController().signal);
    let text = '';
    for await (const chunk of previous) text += chunk.toString();
    assert.equal(text, 'crashing\n');
    // Old instances are removed with their termination message files: no file per restart.
    const messageFiles = await readdir(join(h.dataDir, 'agent', 'pods', uid, 'containers', 'main'));
    assert.ok(messageFiles.length <= 3, `termination message files left: ${messageFiles.join(' ')}`);
    const backOff = (await h.waitForEvents('crasher', (all) => all.some((e) => e.reason === 'BackOff'), 'BackOff')).find((e) => e.reason === 'BackOff');
    assert.equal(backOff?.message, `Back-off restarting failed container main in pod crasher_default(${uid})`);
    const get = await h.cluster.kubectl(['get', 'pod', 'crasher', '--no-headers']);
    assert.match(get.stdout, /crasher\s+0\/1\s+(CrashLoopBackOff|Error)\s+\d+/);
  });

  test('restartPolicy OnFailure: a container that succeeds is not restarted and the pod Succeeded', async () => {
    await h.createPod({ metadata: { name: 'job-ok' }, spec: { nodeName: h.nodeName, restartPolicy: 'OnFailure', containers: [shell('main', image, 'echo done')] } });
    const pod = await h.waitForPod('job-ok', (p) => (p.status?.phase === 'Succeeded' ? p : undefined), 30_000, 'Succeeded');
    const status = containerStatus(pod, 'main');
    assert.equal(status.state.terminated.reason, 'Completed');
    assert.equal(status.restartCount, 0);
    assert.equal(pod.status.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
    const get = await h.cluster.kubectl(['get', 'pod', 'job-ok', '--no-headers']);
    assert.match(get.stdout, /job-ok\s+0\/1\s+Completed\s+0/);
  });

  test('restartPolicy Never: a failed container fails the pod, with its exit code', async () => {
    await h.createPod({ metadata: { name: 'job-bad' }, spec: { nodeName: h.nodeName, restartPolicy: 'Never', containers: [shell('main', image, 'exit 7')] } });
    const pod = await h.waitForPod('job-bad', (p) => (p.status?.phase === 'Failed' ? p : undefined), 30_000, 'Failed');
    const terminated = containerStatus(pod, 'main').state.terminated;
    assert.equal(terminated.exitCode, 7);
    assert.equal(terminated.reason, 'Error');
    // Nothing of a finished pod keeps running.
    const running = await h.docker.docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${pod.metadata.uid}`] } });
    assert.equal(running.length, 0);
  });

  test('an init container that fails under restartPolicy Never fails the pod; its app never starts', async () => {
    await h.createPod({
      metadata: { name: 'init-fails' },
      spec: { nodeName: h.nodeName, restartPolicy: 'Never', initContainers: [shell('setup', image, 'exit 1')], containers: [shell('main', image, 'sleep 3600')] },
    });
    const pod = await h.waitForPod('init-fails', (p) => (p.status?.phase === 'Failed' ? p : undefined), 30_000, 'Failed');
    assert.equal(containerStatus(pod, 'setup').state.terminated.exitCode, 1);
    assert.equal(containerStatus(pod, 'main').state.waiting.reason, 'PodInitializing');
    const get = await h.cluster.kubectl(['get', 'pod', 'init-fails', '--no-headers']);
    assert.match(get.stdout, /init-fails\s+0\/1\s+Init:Error\s+0/);
  });
});
