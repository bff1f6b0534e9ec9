import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { toTable } from '../../controlplane/apiserver/tables/index.js';
import { NOW, ago, cells, resource } from './fixtures.js';

function pod(status: PodStatus, spec: Partial<Pod['spec']> = {}, metadata: Pod['metadata'] = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7d4b9c-x2x9k', namespace: 'default', creationTimestamp: ago(600), ...metadata },
    spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...spec },
    status,
  };
}

function running(name = 'web', extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, image: 'nginx:1.25', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: ago(590) } }, ...extra };
}

function waiting(reason: string, name = 'web', extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, image: 'nginx:1.25', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason } }, ...extra };
}

function terminated(reason: string | undefined, exitCode: number, name = 'web', extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    name,
    image: 'nginx:1.25',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, ...(reason ? { reason } : {}), finishedAt: ago(60) } },
    ...extra,
  };
}

/** READY, STATUS, RESTARTS. */
function summary(p: Pod): unknown[] {
  return cells('', 'pods', p).slice(1, 4);
}

void describe('pod STATUS, READY and RESTARTS', () => {
  void test('a running, ready pod', () => {
    const p = pod({ phase: 'Running', podIP: '10.42.0.5', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [running()] }, { nodeName: 'node-1' });
    assert.deepEqual(cells('', 'pods', p), ['web-7d4b9c-x2x9k', '1/1', 'Running', '0', '10m', '10.42.0.5', 'node-1', '<none>', '<none>']);
  });

  void test('ContainerCreating while the container waits', () => {
    assert.deepEqual(summary(pod({ phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] })), ['0/1', 'ContainerCreating', '0']);
  });

  void test('Pending before any status is reported', () => {
    assert.deepEqual(summary(pod({ phase: 'Pending' })), ['0/1', 'Pending', '0']);
  });

  void test('image pull failures show the waiting reason', () => {
    assert.deepEqual(summary(pod({ phase: 'Pending', containerStatuses: [waiting('ErrImagePull')] })), ['0/1', 'ErrImagePull', '0']);
    assert.deepEqual(summary(pod({ phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff')] })), ['0/1', 'ImagePullBackOff', '0']);
  });

  void test('CrashLoopBackOff with restarts and the time of the last one', () => {
    const cs = waiting('CrashLoopBackOff', 'web', { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(210) } } });
    assert.deepEqual(summary(pod({ phase: 'Running', containerStatuses: [cs] })), ['0/1', 'CrashLoopBackOff', '5 (3m30s ago)']);
  });

  void test('restarts sum over containers and take the latest termination', () => {
    const a = running('a', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * 3600) } } });
    const b = running('b', { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(45) } } });
    const p = pod({ phase: 'Running', containerStatuses: [a, b] }, { containers: [{ name: 'a' }, { name: 'b' }] });
    assert.deepEqual(summary(p), ['2/2', 'Running', '3 (45s ago)']);
  });

  void test('restarts without a recorded termination time print the bare count', () => {
    assert.deepEqual(summary(pod({ phase: 'Running', containerStatuses: [running('web', { restartCount: 4 })] })), ['1/1', 'Running', '4']);
  });

  void test('Init:0/2 while the first of two init containers runs', () => {
    const p = pod(
      { phase: 'Pending', initContainerStatuses: [running('init-a', { ready: false }), waiting('PodInitializing', 'init-b')], containerStatuses: [waiting('PodInitializing')] },
      { initContainers: [{ name: 'init-a' }, { name: 'init-b' }] },
    );
    assert.deepEqual(summary(p), ['0/1', 'Init:0/2', '0']);
  });

  void test('Init:1/2 once the first init container succeeded', () => {
    const p = pod(
      { phase: 'Pending', initContainerStatuses: [terminated('Completed', 0, 'init-a'), running('init-b', { ready: false })] },
      { initContainers: [{ name: 'init-a' }, { name: 'init-b' }] },
    );
    assert.deepEqual(summary(p), ['0/1', 'Init:1/2', '0']);
  });

  void test('Init:CrashLoopBackOff counts the init container restarts', () => {
    const p = pod(
      {
        phase: 'Pending',
        initContainerStatuses: [waiting('CrashLoopBackOff', 'init-a', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(20) } } })],
        containerStatuses: [waiting('PodInitializing')],
      },
      { initContainers: [{ name: 'init-a' }] },
    );
    assert.deepEqual(summary(p), ['0/1', 'Init:CrashLoopBackOff', '3 (20s ago)']);
  });

  void test('a failed init container shows Init:<reason>, Init:Signal:N or Init:ExitCode:N', () => {
    const spec = { initContainers: [{ name: 'init-a' }] };
    assert.equal(summary(pod({ phase: 'Pending', initContainerStatuses: [terminated('Error', 1, 'init-a')] }, spec))[1], 'Init:Error');
    const bySignal = terminated(undefined, 137, 'init-a');
    bySignal.state = { terminated: { exitCode: 137, signal: 9 } };
    assert.equal(summary(pod({ phase: 'Pending', initContainerStatuses: [bySignal] }, spec))[1], 'Init:Signal:9');
    assert.equal(summary(pod({ phase: 'Pending', initContainerStatuses: [terminated(undefined, 3, 'init-a')] }, spec))[1], 'Init:ExitCode:3');
  });

  void test('PodInitializing once the init containers are done', () => {
    const p = pod(
      {
        phase: 'Pending',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [terminated('Completed', 0, 'init-a')],
        containerStatuses: [waiting('PodInitializing')],
      },
      { initContainers: [{ name: 'init-a' }] },
    );
    assert.deepEqual(summary(p), ['0/1', 'PodInitializing', '0']);
  });

  void test('Completed, with a Completed row condition', () => {
    const p = pod({ phase: 'Succeeded', containerStatuses: [terminated('Completed', 0)] });
    assert.deepEqual(summary(p), ['0/1', 'Completed', '0']);
    const row = toTable(resource('', 'pods'), [p as KubeObject], { now: NOW }).rows[0];
    assert.deepEqual(row?.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });

  void test('Error and OOMKilled show the terminated reason', () => {
    const failed = pod({ phase: 'Failed', containerStatuses: [terminated('Error', 1)] });
    assert.deepEqual(summary(failed), ['0/1', 'Error', '0']);
    assert.equal(toTable(resource('', 'pods'), [failed as KubeObject], { now: NOW }).rows[0]?.conditions?.[0]?.type, 'Completed');
    const oom = terminated('OOMKilled', 137, 'web', { restartCount: 1, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(300) } } });
    assert.deepEqual(summary(pod({ phase: 'Running', containerStatuses: [oom] })), ['0/1', 'OOMKilled', '1 (5m ago)']);
  });

  void test('a terminated container without a reason shows Signal:N or ExitCode:N', () => {
    const bySignal = terminated(undefined, 137);
    bySignal.state = { terminated: { exitCode: 137, signal: 9 } };
    assert.equal(summary(pod({ phase: 'Running', containerStatuses: [bySignal] }))[1], 'Signal:9');
    assert.equal(summary(pod({ phase: 'Running', containerStatuses: [terminated(undefined, 2)] }))[1], 'ExitCode:2');
  });

  void test('the first container with a reason wins', () => {
    const p = pod({ phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff', 'a'), waiting('ContainerCreating', 'b')] }, { containers: [{ name: 'a' }, { name: 'b' }] });
    assert.equal(summary(p)[1], 'CrashLoopBackOff');
  });

  void test('NotReady when one container completed and another runs but the pod is not ready', () => {
    const statuses = [terminated('Completed', 0, 'job'), running('web')];
    const spec = { containers: [{ name: 'job' }, { name: 'web' }] };
    const notReady = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: statuses }, spec);
    assert.deepEqual(summary(notReady), ['1/2', 'NotReady', '0']);
    const ready = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: statuses }, spec);
    assert.deepEqual(summary(ready), ['1/2', 'Running', '0']);
  });

  void test('Terminating once deletion started, unless the pod already finished', () => {
    const deleting = { deletionTimestamp: ago(5) };
    assert.equal(summary(pod({ phase: 'Running', containerStatuses: [running()] }, {}, deleting))[1], 'Terminating');
    assert.equal(summary(pod({ phase: 'Succeeded', containerStatuses: [terminated('Completed', 0)] }, {}, deleting))[1], 'Completed');
  });

  void test('Unknown for a deleted pod on a lost node', () => {
    const p = pod({ phase: 'Running', reason: 'NodeLost', containerStatuses: [running()] }, {}, { deletionTimestamp: ago(5) });
    assert.equal(summary(p)[1], 'Unknown');
  });

  void test('the pod reason replaces the phase (Evicted)', () => {
    assert.deepEqual(summary(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' })), ['0/1', 'Evicted', '0']);
  });

  void test('SchedulingGated while a scheduling gate holds the pod', () => {
    const p = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }, { schedulingGates: [{ name: 'example.com/quota' }] });
    assert.equal(summary(p)[1], 'SchedulingGated');
  });

  void test('a started sidecar counts as a container of the pod', () => {
    const p = pod(
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
        initContainerStatuses: [running('proxy', { restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(100) } } })],
        containerStatuses: [running()],
      },
      { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
    );
    assert.deepEqual(summary(p), ['2/2', 'Running', '1 (100s ago)']);
  });
});

void describe('pod wide columns', () => {
  void test('IP, node, nominated node and readiness gates', () => {
    const p = pod(
      {
        phase: 'Running',
        podIPs: [{ ip: '10.42.1.7' }],
        nominatedNodeName: 'node-2',
        conditions: [{ type: 'example.com/lb-ready', status: 'True' }, { type: 'example.com/warm', status: 'False' }],
        containerStatuses: [running()],
      },
      { nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/lb-ready' }, { conditionType: 'example.com/warm' }] },
    );
    assert.deepEqual(cells('', 'pods', p).slice(5), ['10.42.1.7', 'node-1', 'node-2', '1/2']);
  });

  void test('an unscheduled pod prints <none> for IP, node and nominated node', () => {
    assert.deepEqual(cells('', 'pods', pod({ phase: 'Pending' })).slice(5), ['<none>', '<none>', '<none>', '<none>']);
  });
});
