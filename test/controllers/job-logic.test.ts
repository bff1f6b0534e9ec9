// The Job controller's pure logic, without a network: counting through the tracking finalizer,
// the backoff limit (Never and OnFailure), the active deadline, wanted parallelism and the delay
// before replacing failed pods.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { assessJob, isComplete, wantedActive } from '../../controlplane/controllers/job/assessment.js';
import { pastBackoffLimitOnFailure, replacementDelay } from '../../controlplane/controllers/job/pod-failures.js';
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
