// The StatefulSet controller's pure logic, without a network: pod identity, the one step a sync
// takes (ordered and parallel creation, scale-down from the top, failed pods, the rolling update
// with its partition, OnDelete), revisions and status.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { newRevision, revisionTemplate, revisionsToTruncate, sortRevisions, updateRevisionSource } from '../../controlplane/controllers/statefulset/history.js';
import { identityMatches, isMemberOf, newStatefulSetPod, ordinalOf } from '../../controlplane/controllers/statefulset/identity.js';
import { planStatefulSet, podsByOrdinal, revisionForNewPod } from '../../controlplane/controllers/statefulset/plan.js';
import type { StatefulSetPlan } from '../../controlplane/controllers/statefulset/plan.js';
import { replicaCounts, statefulSetStatus, statefulSetStatusDiffers } from '../../controlplane/controllers/statefulset/status.js';

const now = Date.parse('2024-06-01T12:00:00Z');
const OLD = 'web-old';
const NEW = 'web-new';

type Spec = Partial<NonNullable<StatefulSet['spec']>>;

function sts(spec: Spec = {}, status: StatefulSet['status'] = { replicas: 0 }): StatefulSet & KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 3 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
      ...spec,
    },
    status,
  };
}

interface PodOptions {
  revision?: string;
  phase?: string;
  ready?: boolean;
  readyForMs?: number;
  deleting?: boolean;
  labels?: Record<string, string>;
}

function pod(ordinal: number, options: PodOptions = {}): Pod {
  const name = `web-${ordinal}`;
  const ready = options.ready ?? (options.phase ?? 'Running') === 'Running';
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${ordinal}`,
      labels: options.labels ?? {
        app: 'web',
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(ordinal),
        'controller-revision-hash': options.revision ?? OLD,
      },
      deletionTimestamp: options.deleting ? new Date(now).toISOString() : undefined,
    },
    spec: { containers: [] },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date(now - (options.readyForMs ?? 60_000)).toISOString() }],
    },
  };
}

function plan(set: StatefulSet, pods: Pod[], revisions: { current?: string; update?: string } = {}): StatefulSetPlan {
  return planStatefulSet({ set, pods, currentRevision: revisions.current ?? OLD, updateRevision: revisions.update ?? OLD, nowMs: now });
}

/** The plan's steps as short words: `create web-1@rev`, `delete web-2 (update)`, `relabel web-0`. */
function steps(p: StatefulSetPlan): string[][] {
  return p.phases.map((phase) =>
    phase.map((s) => {
      if (s.action === 'create') return `create web-${s.ordinal}@${s.revision}`;
      if (s.action === 'delete') return `delete ${s.pod.metadata?.name} (${s.reason})`;
      return `relabel ${s.pod.metadata?.name}`;
    }),
  );
}

describe('pod identity', () => {
  test('members are named <set>-<ordinal>, ordinals without leading zeros', () => {
    const set = sts();
    const named = (name: string) => ({ metadata: { name } });
    assert.equal(ordinalOf(set, named('web-0')), 0);
    assert.equal(ordinalOf(set, named('web-12')), 12);
    for (const other of ['web-01', 'web-x', 'web', 'webs-1', 'db-0', 'web-2147483648']) assert.equal(isMemberOf(set, named(other)), false, other);
    // A set whose name ends in a number has members too.
    assert.equal(ordinalOf(sts({}, undefined), named('web-1-2')), undefined);
    assert.equal(ordinalOf({ metadata: { name: 'web-1' } }, named('web-1-2')), 2);
  });

  test('a new pod: name, identity labels, revision label, hostname and subdomain, controller reference', () => {
    const set = sts();
    const p = newStatefulSetPod(set, set.spec!.template, 2, NEW);
    assert.equal(p.metadata?.name, 'web-2');
    assert.equal(p.metadata?.generateName, undefined);
    assert.deepEqual(p.metadata?.labels, {
      app: 'web',
      'statefulset.kubernetes.io/pod-name': 'web-2',
      'apps.kubernetes.io/pod-index': '2',
      'controller-revision-hash': NEW,
    });
    assert.equal(p.spec?.hostname, 'web-2');
    assert.equal(p.spec?.subdomain, 'nginx');
    assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
    assert.ok(identityMatches(set, p));
    assert.ok(!identityMatches(set, pod(0, { labels: { app: 'web' } })));
    // Without a serviceName there is no subdomain.
    assert.equal(newStatefulSetPod(sts({ serviceName: '' }), set.spec!.template, 0, NEW).spec?.subdomain, undefined);
  });

  test('ordinals.start moves the range; pods outside it are condemned, highest first', () => {
    const set = sts({ replicas: 2, ordinals: { start: 5 } });
    const { replicas, condemned } = podsByOrdinal(set, [pod(0), pod(5), pod(9), pod(7)]);
    assert.deepEqual(replicas.map((p) => p?.metadata?.name), ['web-5', undefined]);
    assert.deepEqual(condemned.map((p) => p.metadata?.name), ['web-9', 'web-7', 'web-0']);
    assert.deepEqual(steps(plan(set, [pod(5)])), [['create web-6@web-old']]);
  });
});

describe('OrderedReady', () => {
  test('creates one pod at a time, each once the ones below it are Running and Ready', () => {
    const set = sts();
    assert.deepEqual(steps(plan(set, [])), [['create web-0@web-old']]);
    const pending = plan(set, [pod(0, { phase: 'Pending' })]);
    assert.deepEqual(steps(pending), []);
    assert.equal(pending.waitingFor, 'web-0 to be Running and Ready');
    assert.deepEqual(steps(plan(set, [pod(0, { ready: false })])), [], 'running but not ready');
    assert.deepEqual(steps(plan(set, [pod(0)])), [['create web-1@web-old']]);
    assert.deepEqual(steps(plan(set, [pod(0), pod(1)])), [['create web-2@web-old']]);
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2)])), []);
    // A gap is filled before anything above it moves.
    assert.deepEqual(steps(plan(set, [pod(0), pod(2)])), [['create web-1@web-old']]);
  });

  test('waits for minReadySeconds of availability', () => {
    const set = sts({ minReadySeconds: 10 });
    const p = plan(set, [pod(0, { readyForMs: 3_000 })]);
    assert.deepEqual(steps(p), []);
    assert.equal(p.waitingFor, 'web-0 to be available');
    assert.deepEqual(steps(plan(set, [pod(0, { readyForMs: 11_000 })])), [['create web-1@web-old']]);
  });

  test('scales down from the highest ordinal, one pod at a time, waiting for each to go', () => {
    const set = sts({ replicas: 2 });
    const all = [0, 1, 2, 3].map((i) => pod(i));
    assert.deepEqual(steps(plan(set, all)), [['delete web-3 (scale-down)']]);
    const p = plan(set, [pod(0), pod(1), pod(2), pod(3, { deleting: true })]);
    assert.deepEqual(steps(p), []);
    assert.equal(p.waitingFor, 'web-3 to terminate');
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2)])), [['delete web-2 (scale-down)']]);
    // Not while a pod in the range is unhealthy; but the lowest unhealthy condemned pod may go.
    assert.deepEqual(steps(plan(set, [pod(0, { ready: false }), pod(1), pod(2)])), []);
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2, { ready: false })])), [['delete web-2 (scale-down)']]);
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2, { ready: false }), pod(3, { ready: false })])), []);
  });

  test('a failed pod is deleted, and made again once it is gone', () => {
    const set = sts();
    const p = plan(set, [pod(0), pod(1, { phase: 'Failed' }), pod(2)]);
    assert.deepEqual(steps(p), [['delete web-1 (terminated)']]);
    assert.equal(p.waitingFor, 'web-1 (Failed) to be replaced');
    assert.deepEqual(steps(plan(set, [pod(0), pod(1, { phase: 'Succeeded' })])), [['delete web-1 (terminated)']]);
    assert.deepEqual(steps(plan(set, [pod(0), pod(1, { phase: 'Failed', deleting: true })])), [], 'already on its way');
    assert.deepEqual(steps(plan(set, [pod(0), pod(2)])), [['create web-1@web-old']]);
  });

  test("an owned pod missing its identity labels gets them back", () => {
    const set = sts({ replicas: 2 });
    assert.deepEqual(steps(plan(set, [pod(0, { labels: { app: 'web', 'controller-revision-hash': OLD } })])), [['relabel web-0', 'create web-1@web-old']]);
  });
});

describe('Parallel', () => {
  test('creates and deletes every pod at once, without waiting for readiness', () => {
    const set = sts({ podManagementPolicy: 'Parallel' });
    const p = plan(set, []);
    assert.equal(p.ordered, false);
    assert.deepEqual(steps(p), [['create web-0@web-old', 'create web-1@web-old', 'create web-2@web-old']]);
    assert.deepEqual(steps(plan(set, [pod(0, { phase: 'Pending' }), pod(1, { phase: 'Failed' })])), [['delete web-1 (terminated)', 'create web-2@web-old']]);
    const down = sts({ podManagementPolicy: 'Parallel', replicas: 1 });
    assert.deepEqual(steps(plan(down, [pod(0, { ready: false }), pod(1, { ready: false }), pod(2, { deleting: true }), pod(3)])), [['delete web-3 (scale-down)', 'delete web-1 (scale-down)']]);
  });

  test('still rolls an update out one pod at a time', () => {
    const set = sts({ podManagementPolicy: 'Parallel' });
    const p = plan(set, [pod(0), pod(1), pod(2)], { current: OLD, update: NEW });
    assert.deepEqual(steps(p), [['delete web-2 (update)']]);
  });
});

describe('RollingUpdate', () => {
  const revisions = { current: OLD, update: NEW };

  test('replaces the highest pod not at the update revision, once those above it are available', () => {
    const set = sts();
    const p = plan(set, [pod(0), pod(1), pod(2)], revisions);
    assert.deepEqual(steps(p), [['delete web-2 (update)']]);
    assert.equal(p.counts.currentReplicas, 2, 'the deleted pod is no longer current');
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2, { deleting: true })], revisions)), [], 'waits for it to go');
    assert.deepEqual(steps(plan(set, [pod(0), pod(1)], revisions)), [['create web-2@web-new']]);
    const waiting = plan(set, [pod(0), pod(1), pod(2, { revision: NEW, ready: false })], revisions);
    assert.deepEqual(steps(waiting), []);
    assert.equal(waiting.waitingFor, 'web-2 to be Running and Ready');
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2, { revision: NEW })], revisions)), [['delete web-1 (update)']]);
    assert.deepEqual(steps(plan(set, [pod(0, { revision: NEW }), pod(1, { revision: NEW }), pod(2, { revision: NEW })], revisions)), []);
  });

  test('leaves the pods below the partition at the current revision, even when made again', () => {
    const set = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2, { revision: NEW })], revisions)), []);
    assert.deepEqual(steps(plan(set, [pod(0)], revisions)), [['create web-1@web-old']]);
    assert.equal(revisionForNewPod(set, 1, OLD, NEW), OLD);
    assert.equal(revisionForNewPod(set, 2, OLD, NEW), NEW);
    // Without a rollingUpdate block, the count of current pods plays the partition.
    const bare = sts({ updateStrategy: { type: 'RollingUpdate' } }, { replicas: 3, currentReplicas: 1 });
    assert.equal(revisionForNewPod(bare, 0, OLD, NEW), OLD);
    assert.equal(revisionForNewPod(bare, 1, OLD, NEW), NEW);
  });

  test('OnDelete replaces nothing, and pods made again get the update revision', () => {
    const set = sts({ updateStrategy: { type: 'OnDelete' } });
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2)], revisions)), []);
    assert.deepEqual(steps(plan(set, [pod(0), pod(2)], revisions)), [['create web-1@web-new']]);
  });

  test('scaling goes before updating', () => {
    const set = sts({ replicas: 2 });
    assert.deepEqual(steps(plan(set, [pod(0), pod(1), pod(2)], revisions)), [['delete web-2 (scale-down)']]);
  });
});

describe('status', () => {
  const revisions = { current: OLD, update: NEW, collisionCount: 0 };

  test('counts ready, available, current and updated pods; terminating pods are neither current nor updated', () => {
    const pods = [pod(0), pod(1, { revision: NEW, readyForMs: 1000 }), pod(2, { revision: NEW, deleting: true }), pod(3, { phase: 'Pending', revision: 'web-third' })];
    assert.deepEqual(replicaCounts(pods, 5, OLD, NEW, now), { replicas: 4, readyReplicas: 3, availableReplicas: 2, currentReplicas: 1, updatedReplicas: 1 });
    const status = statefulSetStatus(sts(), replicaCounts(pods, 5, OLD, NEW, now), revisions, 3);
    assert.deepEqual(status, {
      replicas: 4,
      availableReplicas: 2,
      observedGeneration: 3,
      readyReplicas: 3,
      currentReplicas: 1,
      updatedReplicas: 1,
      currentRevision: OLD,
      updateRevision: NEW,
      collisionCount: 0,
    });
  });

  test('a rolling update is complete once every pod is updated and ready: the update revision becomes current', () => {
    const pods = [0, 1, 2].map((i) => pod(i, { revision: NEW }));
    const status = statefulSetStatus(sts(), replicaCounts(pods, 0, OLD, NEW, now), revisions, 3);
    assert.equal(status.currentRevision, NEW);
    assert.equal(status.currentReplicas, 3);
    // Not under OnDelete: its current revision stays, as in Kubernetes.
    const onDelete = statefulSetStatus(sts({ updateStrategy: { type: 'OnDelete' } }), replicaCounts(pods, 0, OLD, NEW, now), revisions, 3);
    assert.equal(onDelete.currentRevision, OLD);
    assert.equal(statefulSetStatusDiffers(status, { ...status }), false);
    assert.equal(statefulSetStatusDiffers(status, { ...status, updateRevision: 'web-other' }), true);
    assert.equal(statefulSetStatusDiffers(status, { ...status, availableReplicas: 2 }), true);
  });
});

describe('revisions', () => {
  function revision(set: StatefulSet & KubeObject, number: number): ControllerRevision {
    return newRevision(set, number, 0);
  }

  test("a revision holds the template as a replace patch, named after the set and the template's hash", () => {
    const set = sts({}, { replicas: 0 });
    set.metadata!.annotations = { 'kubernetes.io/change-cause': 'first' };
    const r = revision(set, 1);
    assert.match(r.metadata?.name ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(r.metadata?.labels?.['controller-revision-hash'], r.metadata?.name?.slice('web-'.length));
    assert.equal(r.metadata?.labels?.['app'], 'web');
    assert.equal(r.metadata?.annotations?.['kubernetes.io/change-cause'], 'first');
    assert.equal((r.data as any).spec.template.$patch, 'replace');
    assert.deepEqual(revisionTemplate(r), set.spec!.template);
    assert.notEqual(newRevision(set, 1, 1).metadata?.name, r.metadata?.name, 'a collision count gives another name');
  });

  test('the update revision: the newest if it holds the template, an older one renumbered (rollback), or a new one', () => {
    const v1 = sts();
    const v2 = sts({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } });
    const r1 = revision(v1, 1);
    const r2 = revision(v2, 2);
    assert.deepEqual(updateRevisionSource(v1, []), { kind: 'create', number: 1 });
    assert.deepEqual(updateRevisionSource(v2, [r1]), { kind: 'create', number: 2 });
    assert.deepEqual(updateRevisionSource(v2, [r1, r2]), { kind: 'newest', revision: r2 });
    assert.deepEqual(updateRevisionSource(v1, [r1, r2]), { kind: 'renumber', revision: r1, to: 3 });
    assert.deepEqual(sortRevisions([r2, r1]), [r1, r2]);
  });

  test('history keeps revisionHistoryLimit revisions besides the live ones, dropping the oldest', () => {
    const set = sts({ revisionHistoryLimit: 1 });
    const revisions = [1, 2, 3, 4].map((n) => ({ metadata: { name: `r${n}` }, revision: n }));
    assert.deepEqual(revisionsToTruncate(set, revisions, new Set(['r4', 'r1'])).map((r) => r.metadata.name), ['r2']);
    assert.deepEqual(revisionsToTruncate(sts(), revisions, new Set(['r4'])), [], 'default limit 10');
    assert.deepEqual(revisionsToTruncate(sts({ revisionHistoryLimit: 0 }), revisions, new Set(['r4'])).length, 3);
  });
});
