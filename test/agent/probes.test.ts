// Probes against real containers: httpGet (named port), tcpSocket and exec change readiness;
// a failing liveness probe restarts the container; a startup probe holds the others back; a probe
// naming a port the container does not have leaves the pod unready, with an event saying why.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentHarness } from './harness.js';
import { eventually } from '../helpers/cluster.js';
import { condition, containerStatus, shell, startAgentHarness } from './harness.js';

describe('agent: probes', () => {
  let h: AgentHarness;
  let image: string;
  before(async () => {
    h = await startAgentHarness();
    image = h.docker.busyboxImage;
  });
  after(async () => {
    await h?.close();
  });

  test('an httpGet readiness probe on a named port makes the pod Ready, then unready when it fails', async () => {
    await h.createPod({
      metadata: { name: 'http-ready' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          shell('web', image, 'mkdir -p /www; echo ok > /www/healthz; httpd -p 8080 -h /www; sleep 4; rm /www/healthz; exec sleep 3600', {
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          }),
        ],
      },
    });
    await h.waitForPod('http-ready', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 20_000, 'Ready');
    const unready = await h.waitForPod('http-ready', (p) => (condition(p, 'Ready') === 'False' ? p : undefined), 20_000, 'unready again');
    const status = containerStatus(unready, 'web');
    assert.equal(status.ready, false);
    assert.equal(status.restartCount, 0);
    assert.ok(status.state.running);
    const ready = unready.status.conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready.reason, 'ContainersNotReady');
    assert.equal(ready.message, 'containers with unready status: [web]');
    // The event is written in the background, after the status.
    const unhealthy = 'Readiness probe failed: HTTP probe failed with statuscode: 404';
    const messages = async () => (await h.events('http-ready')).filter((e) => e.reason === 'Unhealthy').map((e) => e.message);
    await eventually(async () => ((await messages()).includes(unhealthy) ? true : undefined), 10_000, 'the Unhealthy event');
  });

  test('a tcpSocket readiness probe waits for the port to open', async () => {
    await h.createPod({
      metadata: { name: 'tcp-ready' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          // Long enough for a loaded machine to report the container running before the port opens.
          shell('main', image, 'sleep 5; mkdir -p /www; exec httpd -f -p 9000 -h /www', {
            readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 },
          }),
        ],
      },
    });
    const early = await h.waitForPod('tcp-ready', (p) => (containerStatus(p, 'main')?.state?.running ? p : undefined), 20_000, 'running');
    assert.equal(containerStatus(early, 'main').ready, false);
    await h.waitForPod('tcp-ready', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 20_000, 'Ready');
  });

  test('an exec liveness probe that fails restarts the container, with the reason recorded', async () => {
    await h.createPod({
      metadata: { name: 'liveness' },
      spec: {
        nodeName: h.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          shell('main', image, 'touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 3600', {
            livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 },
          }),
        ],
      },
    });
    const pod = await h.waitForPod('liveness', (p) => (containerStatus(p, 'main')?.restartCount >= 1 ? p : undefined), 30_000, 'a restart');
    const status = containerStatus(pod, 'main');
    assert.equal(status.lastState.terminated.reason, 'Error');
    assert.equal(status.lastState.terminated.exitCode, 137);
    const events = await h.waitForEvents('liveness', (all) => all.some((e) => e.reason === 'Killing') && all.some((e) => e.reason === 'Unhealthy'), 'Killing and Unhealthy');
    const killing = events.find((e) => e.reason === 'Killing');
    assert.equal(killing?.message, 'Container main failed liveness probe, will be restarted');
    assert.equal(killing?.involvedObject.fieldPath, 'spec.containers{main}');
    const unhealthy = events.find((e) => e.reason === 'Unhealthy');
    assert.match(unhealthy?.message ?? '', /^Liveness probe failed: cat: can't open '\/tmp\/alive': No such file or directory/);
  });

  test('a startup probe holds liveness and readiness back until it succeeds', async () => {
    await h.createPod({
      metadata: { name: 'startup' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          shell('main', image, 'sleep 6; touch /tmp/started; exec sleep 3600', {
            startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 20 },
            // Would kill the container at once if it ran before the startup probe passed.
            livenessProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 1 },
            readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
          }),
        ],
      },
    });
    const starting = await h.waitForPod('startup', (p) => (containerStatus(p, 'main')?.state?.running ? p : undefined), 20_000, 'running');
    assert.equal(containerStatus(starting, 'main').started, false);
    assert.equal(containerStatus(starting, 'main').ready, false);
    const ready = await h.waitForPod('startup', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 20_000, 'Ready');
    const status = containerStatus(ready, 'main');
    assert.equal(status.started, true);
    assert.equal(status.restartCount, 0);
  });

  test('a probe naming a port the container lacks keeps the pod unready and says why', async () => {
    await h.createPod({
      metadata: { name: 'bad-port' },
      spec: {
        nodeName: h.nodeName,
        containers: [shell('main', image, 'exec sleep 3600', { readinessProbe: { httpGet: { path: '/', port: 'metrics' }, periodSeconds: 1 } })],
      },
    });
    const pod = await h.waitForPod('bad-port', (p) => (containerStatus(p, 'main')?.state?.running ? p : undefined), 20_000, 'running');
    assert.equal(condition(pod, 'Ready'), 'False');
    const event = await eventually(async () => (await h.events('bad-port')).find((e) => e.reason === 'Unhealthy'), 10_000, 'Unhealthy event');
    assert.equal(event.message, 'Readiness probe errored: port "metrics" not found in container main');
    assert.equal(condition(await h.getPod('bad-port'), 'Ready'), 'False');
  });
});
