import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { PlanInput } from '../../agent/pods/actions.js';
import { computePodActions } from '../../agent/pods/actions.js';
import { BackOff } from '../../agent/pods/backoff.js';
import { needsSync } from '../../agent/pods/manager.js';
import type { RuntimeContainer } from '../../agent/runtime/inventory.js';
import { containerSpecHash } from '../../agent/runtime/specs.js';
import { exited, runtimeContainer, sandbox } from './fixtures.js';

const main: Container = { name: 'main', image: 'busybox' };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1' }, spec: { containers: [main], ...spec } };
}

function plan(p: Pod, containers: RuntimeContainer[], extra: Partial<PlanInput> = {}) {
  return computePodActions({
    pod: p,
    containers,
    specHash: containerSpecHash,
    probeKillReason: () => undefined,
    restartBackOff: new BackOff(10_000, 300_000),
    backOffKey: (c) => `uid-1/${c.name}`,
    ...extra,
  });
}

function app(name: string, sb: RuntimeContainer, state: Partial<RuntimeContainer> = {}, restartCount = 0, spec: Container = main): RuntimeContainer {
  return runtimeContainer({ containerName: name, sandboxId: sb.id, restartCount, specHash: containerSpecHash(spec) }, state);
}

describe('pod actions', () => {
  test('a new pod first gets a sandbox', () => {
    const a = plan(pod(), []);
    assert.deepEqual(a.createSandbox, { attempt: 0, replacing: undefined });
    assert.equal(a.start.length, 0);
  });

  test('with the sandbox running, the app containers start', () => {
    const sb = sandbox();
    const a = plan(pod({ containers: [main, { name: 'side', image: 'busybox' }] }), [sb]);
    assert.deepEqual(a.start.map((s) => [s.container.name, s.kind, s.restartCount]), [['main', 'app', 0], ['side', 'app', 0]]);
  });

  test('a dead sandbox is replaced (attempt + 1) and containers in it are killed', () => {
    const old = sandbox({ state: 'exited', exitCode: 137 });
    const running = app('main', old);
    const a = plan(pod(), [old, running]);
    assert.equal(a.createSandbox?.attempt, 1);
    assert.equal(a.kill[0]?.instance.id, running.id);
  });

  test('Never: a pod whose containers ran gets no new sandbox', () => {
    const old = sandbox({ state: 'exited' });
    const a = plan(pod({ restartPolicy: 'Never' }), [old, app('main', old, exited(0))]);
    assert.equal(a.createSandbox, undefined);
  });

  test('init containers run one at a time, in order, before the app', () => {
    const sb = sandbox();
    const p = pod({ initContainers: [{ name: 'one', image: 'busybox' }, { name: 'two', image: 'busybox' }] });
    assert.deepEqual(plan(p, [sb]).start.map((s) => s.container.name), ['one']);
    const one = runtimeContainer({ containerName: 'one', kind: 'init', sandboxId: sb.id });
    assert.deepEqual(plan(p, [sb, one]).start, [], 'wait for the first to finish');
    const oneDone = runtimeContainer({ containerName: 'one', kind: 'init', sandboxId: sb.id }, exited(0));
    assert.deepEqual(plan(p, [sb, oneDone]).start.map((s) => s.container.name), ['two']);
    const twoDone = runtimeContainer({ containerName: 'two', kind: 'init', sandboxId: sb.id }, exited(0));
    assert.deepEqual(plan(p, [sb, oneDone, twoDone]).start.map((s) => s.container.name), ['main']);
  });

  test('init containers run again in a new sandbox', () => {
    const old = sandbox({ state: 'exited' });
    const sb = sandbox({}, 1);
    const p = pod({ initContainers: [{ name: 'one', image: 'busybox' }] });
    const ranBefore = runtimeContainer({ containerName: 'one', kind: 'init', sandboxId: old.id }, exited(0));
    const a = plan(p, [old, sb, ranBefore]);
    assert.deepEqual(a.start.map((s) => [s.container.name, s.restartCount]), [['one', 1]]);
  });

  test('a failed init container under Never stops everything; under Always it restarts', () => {
    const sb = sandbox();
    const failed = runtimeContainer({ containerName: 'one', kind: 'init', sandboxId: sb.id }, exited(1));
    const never = plan(pod({ restartPolicy: 'Never', initContainers: [{ name: 'one', image: 'busybox' }] }), [sb, failed]);
    assert.deepEqual(never.start, []);
    const always = plan(pod({ initContainers: [{ name: 'one', image: 'busybox' }] }), [sb, failed]);
    assert.deepEqual(always.start.map((s) => [s.container.name, s.restartCount]), [['one', 1]]);
  });

  test('restart policies decide whether an ended container starts again', () => {
    const sb = sandbox();
    const failed = app('main', sb, exited(1));
    const ok = app('main', sb, exited(0));
    assert.equal(plan(pod({ restartPolicy: 'Always' }), [sb, ok]).start.length, 1);
    assert.equal(plan(pod({ restartPolicy: 'OnFailure' }), [sb, ok]).start.length, 0);
    assert.equal(plan(pod({ restartPolicy: 'OnFailure' }), [sb, failed]).start.length, 1);
    assert.equal(plan(pod({ restartPolicy: 'Never' }), [sb, failed]).start.length, 0);
    assert.equal(plan(pod(), [sb, failed]).start[0]?.restartCount, 1);
  });

  test('a container that keeps failing backs off', () => {
    let now = Date.now();
    const backOff = new BackOff(10_000, 300_000, () => now);
    const sb = sandbox();
    const first = app('main', sb, exited(1, new Date(now).toISOString()));
    const a = plan(pod(), [sb, first], { restartBackOff: backOff });
    assert.equal(a.start.length, 1, 'the first crash restarts at once');
    backOff.next('uid-1/main', a.start[0]!.backOffEventMs!);
    now += 500;
    const second = app('main', sb, exited(1, new Date(now).toISOString()), 1);
    const b = plan(pod(), [sb, first, second], { restartBackOff: backOff });
    assert.equal(b.start.length, 0);
    assert.equal(b.backingOff[0]?.container.name, 'main');
    assert.equal(b.backingOff[0]?.delayMs, 10_000);
    assert.ok(b.backingOff[0]!.remainingMs > 9000);
  });

  test('a failed liveness probe or a changed spec kills the running container', () => {
    const sb = sandbox();
    const running = app('main', sb);
    const a = plan(pod(), [sb, running], { probeKillReason: (id) => (id === running.id ? 'Container main failed liveness probe, will be restarted' : undefined) });
    assert.equal(a.kill[0]?.message, 'Container main failed liveness probe, will be restarted');
    const changed = plan(pod({ containers: [{ ...main, image: 'busybox:2' }] }), [sb, running]);
    assert.equal(changed.kill[0]?.message, 'Container main definition changed, will be restarted');
  });

  test('a sidecar (init container with restartPolicy Always) keeps running beside the app and is restarted', () => {
    const sb = sandbox();
    const p = pod({ initContainers: [{ name: 'proxy', image: 'busybox', restartPolicy: 'Always' }] });
    assert.deepEqual(plan(p, [sb]).start.map((s) => s.container.name), ['proxy']);
    const running = runtimeContainer({ containerName: 'proxy', kind: 'init', sandboxId: sb.id });
    assert.deepEqual(plan(p, [sb, running]).start.map((s) => s.container.name), ['main'], 'the app starts beside the running sidecar');
    const stopped = runtimeContainer({ containerName: 'proxy', kind: 'init', sandboxId: sb.id }, exited(0));
    assert.deepEqual(plan(p, [sb, stopped, app('main', sb)]).start.map((s) => [s.container.name, s.restartCount]), [['proxy', 1]]);
  });

  test('a container created but never started (agent stopped in between) is started, not re-created', () => {
    const sb = sandbox();
    const created = app('main', sb, { state: 'created', startedAt: undefined });
    const a = plan(pod(), [sb, created]);
    assert.equal(a.startCreated[0]?.id, created.id);
    assert.equal(a.start.length, 0);
  });
});

describe('which pod updates call for a sync', () => {
  test('status changes alone do not; spec, metadata and readiness-gate conditions do', () => {
    const base: Pod = { metadata: { name: 'web', resourceVersion: '1', labels: { a: '1' } }, spec: { containers: [main] }, status: { phase: 'Pending' } };
    assert.equal(needsSync(base, { ...base, metadata: { ...base.metadata, resourceVersion: '2' }, status: { phase: 'Running' } }), false);
    assert.equal(needsSync(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }), true);
    assert.equal(needsSync(base, { ...base, spec: { containers: [{ ...main, image: 'busybox:2' }] } }), true);
    const gated: Pod = { ...base, spec: { containers: [main], readinessGates: [{ conditionType: 'lb' }] } };
    assert.equal(needsSync(gated, { ...gated, status: { conditions: [{ type: 'lb', status: 'True' }] } }), true);
  });
});
