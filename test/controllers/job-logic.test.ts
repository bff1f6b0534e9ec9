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
