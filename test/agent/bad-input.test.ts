// Bad input gets a clear status and never stops the agent serving other pods: an image that
// cannot be pulled (ErrImagePull, then ImagePullBackOff), an image absent under pull policy
// Never, a missing ConfigMap (CreateContainerConfigError until it appears), a hostPort already
// taken, a volume source Skiff cannot provide.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentHarness } from './harness.js';
import { condition, containerStatus, shell, startAgentHarness } from './harness.js';

describe('agent: bad input', () => {
  let h: AgentHarness;
  let image: string;
  before(async () => {
    h = await startAgentHarness();
    image = h.docker.busyboxImage;
  });
  after(async () => {
    await h?.close();
  });

  test('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff; a healthy pod still runs', async () => {
    // A registry on a closed local port: the pull is real and fails at once, without leaving the machine.
    const missing = '127.0.0.1:1/skiff-test/missing:1';
    await h.createPod({
      metadata: { name: 'no-image' },
      spec: { nodeName: h.nodeName, containers: [{ name: 'main', image: missing, imagePullPolicy: 'IfNotPresent' }] },
    });
    await h.createPod({ metadata: { name: 'healthy' }, spec: { nodeName: h.nodeName, containers: [shell('main', image, 'exec sleep 3600')] } });
    const reasons = new Set<string>();
    await h.waitForPod('no-image', (p) => {
      const reason = containerStatus(p, 'main')?.state?.waiting?.reason;
      if (reason) reasons.add(reason);
      return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff') ? p : undefined;
    }, 30_000, 'ErrImagePull and ImagePullBackOff');
    const pod = await h.getPod('no-image');
    assert.equal(pod.status.phase, 'Pending');
    const events = await h.waitForEvents(
      'no-image',
      (all) => ['Error: ErrImagePull', 'Error: ImagePullBackOff'].every((m) => all.some((e) => e.reason === 'Failed' && e.message === m)) && all.some((e) => e.reason === 'BackOff'),
      'Failed (ErrImagePull, ImagePullBackOff) and BackOff',
    );
    const failed = events.filter((e) => e.reason === 'Failed').map((e) => e.message);
    assert.ok(failed.some((m) => m.startsWith(`Failed to pull image "${missing}": `)), failed.join('\n'));
    assert.ok(failed.includes('Error: ErrImagePull'));
    assert.ok(failed.includes('Error: ImagePullBackOff'));
    assert.ok(events.some((e) => e.reason === 'Pulling' && e.message === `Pulling image "${missing}"`));
    assert.ok(events.some((e) => e.reason === 'BackOff' && e.message === `Back-off pulling image "${missing}"`));
    await h.waitForPod('healthy', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 20_000, 'Ready');
  });

  test('an absent image under pull policy Never: ErrImageNeverPull', async () => {
    await h.createPod({
      metadata: { name: 'never-pull' },
      spec: { nodeName: h.nodeName, containers: [{ name: 'main', image: 'skiff-test/absent:1', imagePullPolicy: 'Never' }] },
    });
    const pod = await h.waitForPod('never-pull', (p) => (containerStatus(p, 'main')?.state?.waiting?.reason === 'ErrImageNeverPull' ? p : undefined), 20_000, 'ErrImageNeverPull');
    assert.equal(containerStatus(pod, 'main').state.waiting.message, 'Container image "skiff-test/absent:1" is not present with pull policy of Never');
  });

  test('a missing ConfigMap: CreateContainerConfigError, then the pod runs once it appears', async () => {
    await h.createPod({
      metadata: { name: 'late-config' },
      spec: {
        nodeName: h.nodeName,
        containers: [shell('main', image, 'echo "$VALUE"; exec sleep 3600', { env: [{ name: 'VALUE', valueFrom: { configMapKeyRef: { name: 'late', key: 'value' } } }] })],
      },
    });
    const waiting = await h.waitForPod(
      'late-config',
      (p) => (containerStatus(p, 'main')?.state?.waiting?.reason === 'CreateContainerConfigError' ? containerStatus(p, 'main').state.waiting : undefined),
      20_000,
      'CreateContainerConfigError',
    );
    assert.equal(waiting.message, 'configmap "late" not found');
    const failed = (await h.waitForEvents('late-config', (all) => all.some((e) => e.reason === 'Failed'), 'Failed')).find((e) => e.reason === 'Failed');
    assert.equal(failed?.message, 'Error: configmap "late" not found');
    await h.cluster.api('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' }, data: { value: 'here' } } });
    await h.waitForPod('late-config', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 20_000, 'Ready after the ConfigMap appeared');
  });

  test('a hostPort already taken: the sandbox cannot start, the pod waits and says why', async () => {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const spec = (name: string) => ({
      metadata: { name },
      spec: { nodeName: h.nodeName, containers: [shell('main', image, 'exec sleep 3600', { ports: [{ containerPort: 80, hostPort: port }] })] },
    });
    await h.createPod(spec('port-first'));
    await h.waitForPod('port-first', (p) => (p.status?.phase === 'Running' ? p : undefined), 20_000, 'Running');
    await h.createPod(spec('port-second'));
    const pod = await h.waitForPod(
      'port-second',
      (p) => (containerStatus(p, 'main')?.state?.waiting?.message?.startsWith('Failed to create pod sandbox') ? p : undefined),
      20_000,
      'sandbox failure in status',
    );
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(containerStatus(pod, 'main').state.waiting.reason, 'ContainerCreating');
    assert.match(containerStatus(pod, 'main').state.waiting.message, /port is already allocated|address already in use/);
    const event = (await h.waitForEvents('port-second', (all) => all.some((e) => e.reason === 'FailedCreatePodSandBox'), 'FailedCreatePodSandBox')).find(
      (e) => e.reason === 'FailedCreatePodSandBox',
    );
    assert.match(event?.message ?? '', /^Failed to create pod sandbox: .*(port is already allocated|address already in use)/);
    // Once the port is free, the pod starts.
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/port-first?gracePeriodSeconds=0');
    await h.waitForPod('port-second', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running after the port was freed');
  });

  test('a volume source the agent cannot provide: a clear waiting message', async () => {
    await h.createPod({
      metadata: { name: 'pvc' },
      spec: {
        nodeName: h.nodeName,
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        containers: [shell('main', image, 'exec sleep 3600', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
      },
    });
    const pod = await h.waitForPod('pvc', (p) => (containerStatus(p, 'main')?.state?.waiting?.message ? p : undefined), 20_000, 'a waiting message');
    const waiting = containerStatus(pod, 'main').state.waiting;
    assert.equal(waiting.reason, 'ContainerCreating');
    assert.match(waiting.message, /^MountVolume.SetUp failed for volume "data" : volume source persistentVolumeClaim is not supported by Skiff's agent/);
    const event = (await h.waitForEvents('pvc', (all) => all.some((e) => e.reason === 'FailedMount'), 'FailedMount')).find((e) => e.reason === 'FailedMount');
    assert.equal(event?.message, waiting.message);
  });
});
