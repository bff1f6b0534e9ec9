// The Job controller's pure logic, without a network: counting through the tracking finalizer,
// the backoff limit (Never and OnFailure), the active deadline, wanted parallelism, the delay
// before replacing failed pods, and the rules of a podFailurePolicy.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { assessJob, isComplete, wantedActive } from '../../controlplane/controllers/job/assessment.js';
import { isPodFailed, pastBackoffLimitOnFailure, replacementDelay } from '../../controlplane/controllers/job/pod-failures.js';
import { countsAsFailure, matchPodFailurePolicy } from '../../controlplane/controllers/job/pod-failure-policy.js';
import { countReleased, newlyFinished, trackFinishedPods } from '../../controlplane/controllers/job/tracking.js';
import { assignIndex, formatIndexes, parseIndexes, pendingIndexes, succeededIndexes, surplusIndexedPods } from '../../controlplane/controllers/job/indexed.js';

const now = Date.parse('2024-06-01T12:00:00Z');
const iso = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

function job(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Job {
  return { metadata: { name: 'j', uid: 'job' }, spec: { completions: 3, parallelism: 2, backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [] } }, ...spec }, status } as Job;
}

function pod(uid: string, phase: string, options: { finalizer?: boolean; finishedAgoMs?: number; deleting?: boolean; restarts?: number } = {}): Pod {
  return {
    metadata: {
      name: uid,
      uid,
      finalizers: options.finalizer === false ? [] : ['batch.kubernetes.io/job-tracking'],
      deletionTimestamp: options.deleting ? iso(0) : undefined,
    },
    spec: { containers: [] },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'c',
          ready: false,
          image: '',
          imageID: '',
          restartCount: options.restarts ?? 0,
          state: phase === 'Succeeded' || phase === 'Failed' ? { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: iso(options.finishedAgoMs ?? 1000) } } : { running: {} },
        },
      ],
    },
  } as Pod;
}

describe('tracking finished pods', () => {
  test('finished pods with the finalizer are new; counted or released ones are not', () => {
    const j = job({}, { succeeded: 1, uncountedTerminatedPods: { succeeded: ['s2'] } });
    const fresh = newlyFinished(j, [pod('s1', 'Succeeded', { finalizer: false }), pod('s2', 'Succeeded'), pod('s3', 'Succeeded'), pod('f1', 'Failed'), pod('r1', 'Running')], new Set(['s4']));
    assert.deepEqual(fresh.succeeded.map((p) => p.metadata!.uid), ['s3']);
    assert.deepEqual(fresh.failed.map((p) => p.metadata!.uid), ['f1']);
    const a = assessJob(j, [pod('s2', 'Succeeded'), pod('s3', 'Succeeded'), pod('r1', 'Running')], new Set(), now - 1000, now);
    assert.equal(a.succeeded, 3, '1 counted + 1 uncounted + 1 new');
  });

  test('UIDs are recorded before finalizers go, and counted once the finalizer is gone', () => {
    const j = job();
    const pods = [pod('s1', 'Succeeded'), pod('f1', 'Failed'), pod('r1', 'Running'), pod('d1', 'Running', { deleting: true })];
    const step = trackFinishedPods(j, pods, new Set(), undefined);
    assert.deepEqual(step.uncounted, { succeeded: ['s1'], failed: ['f1', 'd1'] }, 'a pod deleted before finishing counts as failed');
    assert.ok(step.changed);
    assert.deepEqual(step.release.map((p) => p.metadata!.uid), ['s1', 'f1', 'd1']);
    // s1's finalizer was removed, f1's removal failed, d1 is gone.
    const counted = countReleased(0, 0, step.uncounted, new Set(['f1']));
    assert.deepEqual(counted, { succeeded: 1, failed: 1, uncounted: { succeeded: [], failed: ['f1'] } });
  });

  test('once a failure is decided every remaining pod is released and counted as failed', () => {
    const step = trackFinishedPods(job(), [pod('r1', 'Running')], new Set(), { success: false, reason: 'BackoffLimitExceeded', message: '' });
    assert.deepEqual(step.uncounted, { succeeded: [], failed: ['r1'] });
    const ok = trackFinishedPods(job(), [pod('r1', 'Running')], new Set(), { success: true, reason: 'CompletionsReached', message: '' });
    assert.deepEqual(ok.uncounted, { succeeded: [], failed: [] });
    assert.equal(ok.release.length, 1);
  });
});

describe('deciding a Job', () => {
  test('more failures than backoffLimit fail it', () => {
    const pods = [pod('f1', 'Failed'), pod('f2', 'Failed')];
    assert.equal(assessJob(job(), pods, new Set(), now, now).failure, undefined);
    const a = assessJob(job(), [...pods, pod('f3', 'Failed')], new Set(), now, now);
    assert.equal(a.failure?.reason, 'BackoffLimitExceeded');
    assert.equal(a.failure?.message, 'Job has reached the specified backoff limit');
  });

  test('with OnFailure, restarts of running pods count', () => {
    const onFailure = job({ template: { spec: { restartPolicy: 'OnFailure', containers: [] } } });
    assert.ok(!pastBackoffLimitOnFailure(onFailure, [pod('r', 'Running', { restarts: 1 })]));
    assert.ok(pastBackoffLimitOnFailure(onFailure, [pod('r', 'Running', { restarts: 1 }), pod('q', 'Running', { restarts: 1 })]));
    assert.ok(!pastBackoffLimitOnFailure(job(), [pod('r', 'Running', { restarts: 5 })]), 'Never: restarts do not happen');
    const zero = job({ backoffLimit: 0, template: { spec: { restartPolicy: 'OnFailure', containers: [] } } });
    assert.ok(pastBackoffLimitOnFailure(zero, [pod('r', 'Running', { restarts: 1 })]));
  });

  test('the active deadline counts from startTime', () => {
    const j = job({ activeDeadlineSeconds: 10 });
    assert.equal(assessJob(j, [], new Set(), now - 4000, now).deadlineInMs, 6000);
    assert.equal(assessJob(j, [], new Set(), now - 10_000, now).failure?.reason, 'DeadlineExceeded');
    assert.equal(assessJob({ ...j, spec: { ...j.spec!, suspend: true } } as Job, [], new Set(), now - 20_000, now).failure, undefined, 'not while suspended');
  });

  test('parallelism, remaining completions and the work-queue pattern', () => {
    assert.equal(wantedActive(job(), 0, 0), 2);
    assert.equal(wantedActive(job(), 2, 1), 1, 'one completion left');
    assert.equal(wantedActive(job(), 3, 1), 0);
    const queue = job({ completions: undefined, parallelism: 3 });
    assert.equal(wantedActive(queue, 0, 0), 3);
    assert.equal(wantedActive(queue, 1, 2), 2, 'after a success nothing new starts');
    assert.ok(isComplete(job(), 3, 0) && !isComplete(job(), 3, 1) && !isComplete(job(), 2, 0));
    assert.ok(isComplete(queue, 1, 0) && !isComplete(queue, 0, 0));
  });

  test('replacements wait 10 s, 20 s, 40 s... after the last failure since the last success', () => {
    const j = job();
    assert.equal(replacementDelay(j, [], now), 0);
    assert.equal(replacementDelay(j, [pod('f1', 'Failed', { finishedAgoMs: 4000 })], now), 6000);
    assert.equal(replacementDelay(j, [pod('f1', 'Failed', { finishedAgoMs: 30_000 }), pod('f2', 'Failed', { finishedAgoMs: 5000 })], now), 15_000);
    assert.equal(replacementDelay(j, [pod('f1', 'Failed', { finishedAgoMs: 9000 }), pod('s1', 'Succeeded', { finishedAgoMs: 8000 })], now), 0, 'a success resets the count');
    assert.equal(replacementDelay(j, Array.from({ length: 12 }, (_, i) => pod(`f${i}`, 'Failed', { finishedAgoMs: 0 })), now), 360_000, 'capped at 6 min');
  });
});

describe('Indexed jobs', () => {
  const indexed = (status: Record<string, unknown> = {}) => job({ completionMode: 'Indexed', completions: 5, parallelism: 3 }, status);
  function at(index: number | string, uid: string, phase: string, extra: { nodeName?: string } = {}): Pod {
    const p = pod(uid, phase);
    return { ...p, metadata: { ...p.metadata, annotations: { 'batch.kubernetes.io/job-completion-index': String(index) } }, spec: { ...p.spec!, ...extra } } as Pod;
  }

  test('completed indexes are ordered intervals, parsed back within range', () => {
    assert.equal(formatIndexes([5, 0, 2, 1, 7, 6]), '0-2,5-7');
    assert.equal(formatIndexes([]), '');
    assert.deepEqual([...parseIndexes('0-2,5,9-12', 11)].sort((a, b) => a - b), [0, 1, 2, 5, 9, 10]);
    assert.deepEqual([...parseIndexes('x,3', 5)], [3], 'a part that does not parse is skipped');
  });

  test('an index counts once, however many of its pods succeed; UIDs are not recorded', () => {
    const j = indexed({ completedIndexes: '0' });
    const pods = [at(1, 'a', 'Succeeded'), at(1, 'b', 'Succeeded'), at(9, 'c', 'Succeeded'), at(2, 'd', 'Failed'), at(3, 'e', 'Running')];
    assert.deepEqual([...succeededIndexes(j, pods)].sort(), [0, 1], 'index 9 is out of range');
    const a = assessJob(j, pods, new Set(), now - 1000, now);
    assert.equal(a.succeeded, 2);
    assert.equal(a.failed, 1);
    const step = trackFinishedPods(j, pods, new Set(), undefined);
    assert.deepEqual(step.uncounted, { succeeded: [], failed: ['d'] });
    assert.deepEqual(step.release.map((p) => p.metadata!.uid).sort(), ['a', 'b', 'c', 'd']);
  });

  test('pending indexes are the lowest with neither a success nor an active pod', () => {
    const j = indexed();
    const pods = [at(0, 'a', 'Running'), at(2, 'b', 'Failed'), at(3, 'c', 'Pending')];
    assert.deepEqual(pendingIndexes(j, pods, new Set([1]), 3), [2, 4]);
    assert.deepEqual(pendingIndexes(j, pods, new Set(), 1), [1]);
  });

  test('duplicates, bad and finished indexes are surplus; the pod furthest along is kept', () => {
    const j = indexed();
    const kept = at(0, 'running', 'Running', { nodeName: 'n' });
    const pods = [at(0, 'pending', 'Pending'), kept, at(7, 'range', 'Running'), at('x', 'bad', 'Running'), at(1, 'done', 'Running'), at(2, 'alone', 'Pending')];
    const surplus = surplusIndexedPods(j, pods, new Set([1]));
    assert.deepEqual(surplus.map((p) => p.metadata!.uid).sort(), ['bad', 'done', 'pending', 'range']);
  });

  test('a pod gets its index as annotation, label, hostname, name prefix and environment', () => {
    const base = { metadata: { generateName: 'work-', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', env: [{ name: 'X', value: '1' }] }], initContainers: [{ name: 'i', env: [{ name: 'JOB_COMPLETION_INDEX', value: 'mine' }] }] } };
    const p = assignIndex(base as never, 'work', 3);
    assert.equal(p.metadata!.generateName, 'work-3-');
    assert.deepEqual(p.metadata!.labels, { a: 'b', 'batch.kubernetes.io/job-completion-index': '3' });
    assert.equal(p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'], '3');
    assert.equal(p.spec!.hostname, 'work-3');
    assert.deepEqual(p.spec!.containers[0]!.env!.map((e) => e.name), ['X', 'JOB_COMPLETION_INDEX']);
    assert.equal(p.spec!.containers[0]!.env![1]!.valueFrom!.fieldRef!.fieldPath, "metadata.labels['batch.kubernetes.io/job-completion-index']");
    assert.deepEqual(p.spec!.initContainers![0]!.env, [{ name: 'JOB_COMPLETION_INDEX', value: 'mine' }], 'a variable of that name is left alone');
    const long = 'j'.repeat(63);
    assert.equal(assignIndex(base as never, long, 12).metadata!.generateName, `${'j'.repeat(54)}-12-`, 'the prefix stays within 58 characters');
  });
});

describe('pod failure policy', () => {
  type Exit = number | 'running';
  /** A pod of namespace ns whose containers ended with these exit codes (or still run). */
  function ended(uid: string, exits: { containers?: Record<string, Exit>; init?: Record<string, Exit>; conditions?: [string, string][]; phase?: string; deleting?: boolean } = {}): Pod {
    const statuses = (codes: Record<string, Exit>) =>
      Object.entries(codes).map(([name, code]) => ({
        name,
        ready: false,
        image: '',
        imageID: '',
        restartCount: 0,
        state: code === 'running' ? { running: {} } : { terminated: { exitCode: code, finishedAt: iso(1000) } },
      }));
    return {
      metadata: { name: `pod-${uid}`, namespace: 'ns', uid, finalizers: ['batch.kubernetes.io/job-tracking'], deletionTimestamp: exits.deleting ? iso(0) : undefined },
      spec: { containers: [] },
      status: {
        phase: exits.phase ?? 'Failed',
        containerStatuses: statuses(exits.containers ?? { main: 1 }),
        initContainerStatuses: statuses(exits.init ?? {}),
        conditions: (exits.conditions ?? []).map(([type, status]) => ({ type, status })),
      },
    } as Pod;
  }
  const withPolicy = (rules: unknown[], spec: Record<string, unknown> = {}) => job({ podFailurePolicy: { rules }, podReplacementPolicy: 'Failed', ...spec });
  const action = (rules: unknown[], p: Pod) => matchPodFailurePolicy(withPolicy(rules), p)?.action;

  test('onExitCodes: In and NotIn look at the non-zero exit codes of terminated containers', () => {
    const inRule = [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3, 42] } }];
    const notInRule = [{ action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [1, 2] } }];
    assert.equal(action(inRule, ended('a', { containers: { main: 42 } })), 'Ignore');
    assert.equal(action(inRule, ended('b', { containers: { main: 4 } })), undefined);
    assert.equal(action(notInRule, ended('c', { containers: { main: 4 } })), 'Ignore');
    assert.equal(action(notInRule, ended('d', { containers: { main: 2 } })), undefined);
    assert.equal(action(notInRule, ended('e', { containers: { main: 0, side: 1 } })), undefined, 'exit code 0 never matches, even NotIn');
    assert.equal(action(notInRule, ended('f', { containers: { main: 'running' } })), undefined, 'a container still running has no exit code');
    assert.equal(action(inRule, ended('g', { containers: { main: 0 }, init: { setup: 3 } })), 'Ignore', 'init containers count too');
  });

  test('onExitCodes: containerName restricts the containers looked at', () => {
    const rule = [{ action: 'FailJob', onExitCodes: { containerName: 'setup', operator: 'In', values: [3] } }];
    assert.equal(action(rule, ended('a', { containers: { main: 3 } })), undefined);
    const m = matchPodFailurePolicy(withPolicy(rule), ended('b', { containers: { main: 3 }, init: { setup: 3 } }));
    assert.deepEqual(m, { action: 'FailJob', message: 'Container setup for pod ns/pod-b failed with exit code 3 matching FailJob rule at index 0' });
    const regularFirst = matchPodFailurePolicy(withPolicy([{ action: 'FailJob', onExitCodes: { operator: 'In', values: [3, 4] } }]), ended('c', { containers: { main: 4 }, init: { setup: 3 } }));
    assert.equal(regularFirst?.action === 'FailJob' && regularFirst.message, 'Container main for pod ns/pod-c failed with exit code 4 matching FailJob rule at index 0');
  });

  test('onPodConditions: a condition of that type with that status (True unless said)', () => {
    const disruption = [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }];
    assert.equal(action(disruption, ended('a', { conditions: [['DisruptionTarget', 'True']] })), 'Ignore');
    assert.equal(action(disruption, ended('b', { conditions: [['DisruptionTarget', 'False']] })), undefined);
    assert.equal(action(disruption, ended('c', { conditions: [['Ready', 'True']] })), undefined);
    const notReady = [{ action: 'Count', onPodConditions: [{ type: 'ConfigIssue', status: 'True' }, { type: 'Ready', status: 'False' }] }];
    assert.equal(action(notReady, ended('d', { conditions: [['Ready', 'False']] })), 'Count', 'any pattern may match');
    const failJob = matchPodFailurePolicy(withPolicy([{ action: 'Count', onExitCodes: { operator: 'In', values: [9] } }, ...disruption.map((r) => ({ ...r, action: 'FailJob' }))]), ended('e', { conditions: [['DisruptionTarget', 'True']] }));
    assert.deepEqual(failJob, { action: 'FailJob', message: 'Pod ns/pod-e has condition DisruptionTarget matching FailJob rule at index 1' });
  });

  test('the first matching rule decides; a rule with an unknown action is skipped', () => {
    const rules = [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      { action: 'FailJob', onExitCodes: { operator: 'In', values: [137] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [5] } },
    ];
    assert.equal(action(rules, ended('a', { containers: { main: 137 }, conditions: [['DisruptionTarget', 'True']] })), 'Ignore');
    assert.equal(action(rules, ended('b', { containers: { main: 137 } })), 'FailJob');
    assert.equal(action(rules, ended('c', { containers: { main: 1 } })), 'Count');
    assert.equal(action([{ action: 'Restart', onExitCodes: { operator: 'In', values: [1] } }, rules[2]], ended('d', { containers: { main: 1 } })), 'Count');
    assert.equal(matchPodFailurePolicy(job(), ended('e')), undefined, 'no policy, no match');
  });

  test('an ignored failure counts neither towards backoffLimit nor in status.failed', () => {
    const j = withPolicy([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }], { backoffLimit: 0 });
    const evicted = ended('ev', { containers: { main: 137 }, conditions: [['DisruptionTarget', 'True']] });
    assert.ok(!countsAsFailure(j, evicted));
    const a = assessJob(j, [evicted], new Set(), now - 1000, now);
    assert.equal(a.failed, 0);
    assert.equal(a.failure, undefined);
    const step = trackFinishedPods(j, [evicted, ended('f1')], new Set(), undefined);
    assert.deepEqual(step.uncounted, { succeeded: [], failed: ['f1'] }, 'only the counted failure is recorded');
    assert.deepEqual(step.release.map((p) => p.metadata!.uid), ['ev', 'f1'], 'both finalizers go');
    assert.equal(assessJob(j, [evicted, ended('f1')], new Set(), now - 1000, now).failure?.reason, 'BackoffLimitExceeded', 'the other failure counts as usual');
  });

  test('a FailJob match fails the Job at once, before the backoff limit is looked at', () => {
    const j = withPolicy([{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }], { backoffLimit: 0 });
    const a = assessJob(j, [ended('f1'), ended('f2', { containers: { main: 42 } }), ended('r', { phase: 'Running', containers: { main: 'running' } })], new Set(), now - 1000, now);
    assert.deepEqual(a.failure, { success: false, reason: 'PodFailurePolicy', message: 'Container main for pod ns/pod-f2 failed with exit code 42 matching FailJob rule at index 0' });
    const recorded = job({ podFailurePolicy: { rules: [] } }, { conditions: [{ type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', message: 'earlier' }] });
    assert.equal(assessJob(recorded, [ended('f2', { containers: { main: 42 } })], new Set(), now, now).failure?.message, 'earlier', 'a recorded decision stands');
  });

  test('with a policy a pod being deleted counts as failed only once it is Failed', () => {
    const j = withPolicy([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }]);
    const terminating = ended('t', { phase: 'Running', containers: { main: 'running' }, conditions: [['DisruptionTarget', 'True']], deleting: true });
    assert.ok(!isPodFailed(terminating, j));
    assert.ok(isPodFailed(terminating, job()), 'without a policy it counts at once');
    assert.ok(!isPodFailed(terminating, job({ podFailurePolicy: { rules: [] } })), 'with a policy, even if podReplacementPolicy was not defaulted');
    assert.deepEqual(trackFinishedPods(j, [terminating], new Set(), undefined), { uncounted: { succeeded: [], failed: [] }, changed: false, release: [] }, 'kept until it is Failed');
    const a = assessJob(j, [terminating], new Set(), now - 1000, now);
    assert.deepEqual([a.failed, a.terminating, a.active.length], [0, 1, 0]);
    // Once the Job has failed, a pod still terminating is released; an Ignore rule still applies.
    const step = trackFinishedPods(j, [terminating, ended('r', { phase: 'Running', containers: { main: 'running' }, deleting: true })], new Set(), { success: false, reason: 'PodFailurePolicy', message: '' });
    assert.deepEqual(step.uncounted, { succeeded: [], failed: ['r'] });
    assert.equal(step.release.length, 2);
  });
});
