import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerView } from '../../agent/status/podstatus.js';
import { apiTime, computePodStatus, reportableStatus } from '../../agent/status/podstatus.js';
import { exited, runtimeContainer, sandbox } from './fixtures.js';

const NOW = '2026-01-01T12:00:00Z';

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = { phase: 'Pending', qosClass: 'BestEffort' }): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
    status,
  };
}

function view(latest: ReturnType<typeof runtimeContainer> | undefined, extra: Partial<ContainerView> = {}): ContainerView {
  return { latest, ready: true, started: true, ...extra };
}

/** `sb` null: the pod has no sandbox. */
function status(p: Pod, views: Record<string, ContainerView>, terminating = false, sb: ReturnType<typeof sandbox> | null = sandbox()) {
  return computePodStatus({ pod: p, hostIp: '192.168.1.10', sandbox: sb ?? undefined, views: new Map(Object.entries(views)), terminating, now: NOW });
}

function cond(s: ReturnType<typeof status>, type: string) {
  return s.conditions?.find((c) => c.type === type);
}

describe('pod status', () => {
  test('a running, ready container: Running, all conditions True, IPs and times', () => {
    const s = status(pod(), { main: view(runtimeContainer({ containerName: 'main' })) });
    assert.equal(s.phase, 'Running');
    for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) assert.equal(cond(s, type)?.status, 'True', type);
    assert.equal(s.podIP, '10.42.0.5');
    assert.deepEqual(s.podIPs, [{ ip: '10.42.0.5' }]);
    assert.equal(s.hostIP, '192.168.1.10');
    assert.equal(s.startTime, NOW);
    assert.equal(s.qosClass, 'BestEffort');
    const c = s.containerStatuses![0]!;
    assert.equal(c.ready, true);
    assert.equal(c.started, true);
    assert.equal(c.state?.running?.startedAt, '2026-01-01T10:00:00Z');
    assert.match(c.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
  });

  test('a container not created yet is waiting ContainerCreating; the pod is Pending', () => {
    const s = status(pod(), { main: view(undefined, { ready: false, started: false }) }, false, null);
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(cond(s, 'PodReadyToStartContainers')?.status, 'False');
    assert.equal(cond(s, 'Ready')?.message, 'containers with unready status: [main]');
    assert.equal(s.containerStatuses![0]!.imageID, '');
  });

  test('a waiting reason (ErrImagePull) shows as the state', () => {
    const s = status(pod(), { main: view(undefined, { waiting: { reason: 'ErrImagePull', message: 'no such host' } }) });
    assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason: 'ErrImagePull', message: 'no such host' } });
    assert.equal(s.phase, 'Pending');
  });

  test('CrashLoopBackOff: waiting, with the crash as lastState; the pod stays Running', () => {
    const crashed = runtimeContainer({ containerName: 'main', restartCount: 2 }, exited(3, '2026-01-01T11:59:59.5Z'));
    const s = status(pod(), { main: view(crashed, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=main pod=web_default(uid-1)' } }) });
    const c = s.containerStatuses![0]!;
    assert.equal(c.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(c.lastState?.terminated?.exitCode, 3);
    assert.equal(c.lastState?.terminated?.reason, 'Error');
    assert.equal(c.lastState?.terminated?.finishedAt, '2026-01-01T11:59:59Z');
    assert.equal(c.restartCount, 2);
    assert.equal(c.ready, false);
    assert.equal(s.phase, 'Running');
  });

  test('terminated reasons: OOMKilled, Completed, Error, StartError', () => {
    const oom = status(pod({ restartPolicy: 'Never' }), { main: view(runtimeContainer({ containerName: 'main' }, exited(137, NOW, { oomKilled: true }))) });
    assert.equal(oom.containerStatuses![0]!.state?.terminated?.reason, 'OOMKilled');
    assert.equal(oom.phase, 'Failed');
    const done = status(pod({ restartPolicy: 'Never' }), { main: view(runtimeContainer({ containerName: 'main' }, exited(0))) });
    assert.equal(done.containerStatuses![0]!.state?.terminated?.reason, 'Completed');
    assert.equal(done.phase, 'Succeeded');
    assert.equal(cond(done, 'Ready')?.reason, 'PodCompleted');
    const cannot = runtimeContainer({ containerName: 'main' }, { state: 'created', error: 'exec: "nope": executable file not found in $PATH', exitCode: 127, startedAt: undefined });
    const start = status(pod({ restartPolicy: 'Never' }), { main: view(cannot) });
    const t = start.containerStatuses![0]!.state?.terminated;
    assert.equal(t?.reason, 'StartError');
    assert.equal(t?.exitCode, 127);
    assert.match((t as { message?: string }).message ?? '', /executable file not found/);
  });

  test('phase: Always restarts, so stopped containers leave the pod Running; OnFailure with a failure too', () => {
    const failed = runtimeContainer({ containerName: 'main' }, exited(1));
    assert.equal(status(pod(), { main: view(failed) }).phase, 'Running');
    assert.equal(status(pod({ restartPolicy: 'OnFailure' }), { main: view(failed) }).phase, 'Running');
    assert.equal(status(pod({ restartPolicy: 'Never' }), { main: view(failed) }).phase, 'Failed');
  });

  test('a pod being deleted ends Failed or Succeeded by its exits, whatever its policy', () => {
    const killed = runtimeContainer({ containerName: 'main' }, exited(143));
    const s = status(pod(), { main: view(killed, { waiting: { reason: 'CrashLoopBackOff' } }) }, true);
    assert.equal(s.phase, 'Failed');
    assert.ok(s.containerStatuses![0]!.state?.terminated);
    const clean = runtimeContainer({ containerName: 'main' }, exited(0));
    assert.equal(status(pod(), { main: view(clean) }, true).phase, 'Succeeded');
  });

  test('init containers: PodInitializing until they complete; Initialized reports the incomplete ones', () => {
    const p = pod({ initContainers: [{ name: 'setup', image: 'busybox' }] });
    const running = runtimeContainer({ containerName: 'setup', kind: 'init' });
    const s = status(p, { setup: view(running), main: view(undefined, { ready: false }) });
    assert.equal(s.phase, 'Pending');
    assert.equal(cond(s, 'Initialized')?.status, 'False');
    assert.equal(cond(s, 'Initialized')?.message, 'containers with incomplete status: [setup]');
    assert.equal(s.containerStatuses![0]!.state?.waiting?.reason, 'PodInitializing');
    assert.equal(s.initContainerStatuses![0]!.ready, false);
    const done = runtimeContainer({ containerName: 'setup', kind: 'init' }, exited(0));
    const s2 = status(p, { setup: view(done), main: view(runtimeContainer({ containerName: 'main' })) });
    assert.equal(s2.phase, 'Running');
    assert.equal(cond(s2, 'Initialized')?.status, 'True');
    assert.equal(s2.initContainerStatuses![0]!.ready, true);
    assert.equal(s2.initContainerStatuses![0]!.state?.terminated?.reason, 'Completed');
  });

  test('an init container failing under Never fails the pod', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'busybox' }] });
    const s = status(p, { setup: view(runtimeContainer({ containerName: 'setup', kind: 'init' }, exited(1))), main: view(undefined) });
    assert.equal(s.phase, 'Failed');
  });

  test('an unready container (readiness probe) keeps Ready False; transition times are kept while unchanged', () => {
    const c = runtimeContainer({ containerName: 'main' });
    const s = status(pod(), { main: view(c, { ready: false }) });
    assert.equal(cond(s, 'Ready')?.status, 'False');
    assert.equal(cond(s, 'ContainersReady')?.reason, 'ContainersNotReady');
    assert.equal(s.containerStatuses![0]!.ready, false);
    const earlier = '2025-12-31T00:00:00Z';
    const previous = pod({}, { phase: 'Running', startTime: earlier, conditions: s.conditions!.map((x) => ({ ...x, lastTransitionTime: earlier })) });
    const again = status(previous, { main: view(c, { ready: false }) });
    assert.equal(cond(again, 'Ready')?.lastTransitionTime, earlier);
    assert.equal(again.startTime, earlier);
    const ready = status(previous, { main: view(c) });
    assert.equal(cond(ready, 'Ready')?.lastTransitionTime, NOW);
  });

  test("readiness gates: Ready needs the gate's condition True; others' conditions are kept", () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }, { phase: 'Running', conditions: [{ type: 'example.com/lb', status: 'False' }] });
    const s = status(p, { main: view(runtimeContainer({ containerName: 'main' })) });
    assert.equal(cond(s, 'ContainersReady')?.status, 'True');
    assert.equal(cond(s, 'Ready')?.status, 'False');
    assert.equal(cond(s, 'Ready')?.reason, 'ReadinessGatesNotReady');
    assert.equal(cond(s, 'example.com/lb')?.status, 'False');
  });

  test('times have second precision', () => {
    assert.equal(apiTime('2026-01-01T10:00:00.999999999Z'), '2026-01-01T10:00:00Z');
    assert.equal(apiTime(undefined), undefined);
  });
});

describe('reportableStatus (the status manager holds a terminal phase while something runs)', () => {
  const failed = { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] };

  test('a pod whose sandbox still runs keeps the phase, reason and message it has in the API', () => {
    const held = reportableStatus(failed, { phase: 'Running', reason: undefined }, true);
    assert.equal(held.phase, 'Running');
    assert.deepEqual(held.conditions, failed.conditions);
    assert.equal(reportableStatus(failed, undefined, true).phase, 'Pending');
  });

  test('once nothing runs, or when the API has it terminal already, the terminal phase is reported', () => {
    assert.equal(reportableStatus(failed, { phase: 'Running' }, false).phase, 'Failed');
    assert.equal(reportableStatus(failed, { phase: 'Failed', reason: 'DeadlineExceeded' }, true).phase, 'Failed');
    assert.equal(reportableStatus({ phase: 'Running' }, { phase: 'Pending' }, true).phase, 'Running');
  });
});
