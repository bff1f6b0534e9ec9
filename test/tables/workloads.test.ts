import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { ago, cells } from './fixtures.js';

const meta = (name: string) => ({ name, namespace: 'default', creationTimestamp: ago(2 * 86400 + 3600) });
const template: PodTemplateSpec = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'log', image: 'busybox:1.36' }] },
};

void describe('apps/v1', () => {
  void test('deployment', () => {
    const d: Deployment = {
      metadata: meta('web'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }] }, template },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.deepEqual(cells('apps', 'deployments', d), ['web', '2/3', 3, 2, '2d1h', 'web,log', 'nginx:1.25,busybox:1.36', 'app=web,env in (canary,prod)']);
  });

  void test('a new deployment with no status, default replicas and an empty selector', () => {
    const d: Deployment = { metadata: meta('fresh'), spec: { selector: {}, template } };
    assert.deepEqual(cells('apps', 'deployments', d).slice(1, 4), ['0/1', 0, 0]);
    assert.equal(cells('apps', 'deployments', d)[7], '');
  });

  void test('replica set', () => {
    const rs: ReplicaSet = {
      metadata: meta('web-7d4b9c'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c' } }, template },
      status: { replicas: 3, readyReplicas: 1 },
    };
    assert.deepEqual(cells('apps', 'replicasets', rs), ['web-7d4b9c', 3, 3, 1, '2d1h', 'web,log', 'nginx:1.25,busybox:1.36', 'app=web,pod-template-hash=7d4b9c']);
  });

  void test('selectors: Exists, DoesNotExist, NotIn; empty is <none>', () => {
    const rs: ReplicaSet = {
      metadata: meta('sel'),
      spec: {
        selector: {
          matchExpressions: [
            { key: 'tier', operator: 'NotIn', values: ['db'] },
            { key: 'canary', operator: 'DoesNotExist' },
            { key: 'app', operator: 'Exists' },
          ],
        },
        template,
      },
    };
    assert.equal(cells('apps', 'replicasets', rs)[7], 'app,!canary,tier notin (db)');
    assert.equal(cells('apps', 'replicasets', { metadata: meta('none'), spec: { selector: {}, template } })[7], '<none>');
  });

  void test('daemon set', () => {
    const ds: DaemonSet = {
      metadata: meta('agent'),
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...template, spec: { ...template.spec!, nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2, numberMisscheduled: 0 },
    };
    assert.deepEqual(cells('apps', 'daemonsets', ds), ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '2d1h', 'web,log', 'nginx:1.25,busybox:1.36', 'app=agent']);
    const noSelector: DaemonSet = { metadata: meta('any'), spec: { selector: { matchLabels: { app: 'any' } }, template } };
    assert.equal(cells('apps', 'daemonsets', noSelector)[6], '<none>');
  });

  void test('stateful set', () => {
    const sts: StatefulSet = { metadata: meta('db'), spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template }, status: { replicas: 3, readyReplicas: 3 } };
    assert.deepEqual(cells('apps', 'statefulsets', sts), ['db', '3/3', '2d1h', 'web,log', 'nginx:1.25,busybox:1.36']);
  });

  void test('controller revision names its controller as kind.group/name', () => {
    const cr: ControllerRevision = {
      metadata: {
        ...meta('db-5f7c8d'),
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-the-controller', uid: 'u0' },
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u1', controller: true },
        ],
      },
      revision: 2,
    };
    assert.deepEqual(cells('apps', 'controllerrevisions', cr), ['db-5f7c8d', 'statefulset.apps/db', 2, '2d1h']);
    assert.equal(cells('apps', 'controllerrevisions', { metadata: meta('orphan'), revision: 1 })[1], '<none>');
  });
});

void describe('batch/v1 jobs', () => {
  const job = (spec: Partial<Job['spec']>, status: Job['status'], extra: object = {}): Job => ({
    metadata: { ...meta('pi'), ...extra },
    spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], restartPolicy: 'Never' } }, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } }, ...spec },
    status,
  });

  void test('a completed job', () => {
    const j = job({ completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(600), completionTime: ago(555), conditions: [{ type: 'Complete', status: 'True' }] });
    assert.deepEqual(cells('batch', 'jobs', j), ['pi', 'Complete', '1/1', '45s', '2d1h', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=abc']);
  });

  void test('a running job measures its duration up to now', () => {
    const j = job({ completions: 5, parallelism: 2 }, { succeeded: 2, active: 2, startTime: ago(150) });
    assert.deepEqual(cells('batch', 'jobs', j).slice(1, 4), ['Running', '2/5', '2m30s']);
  });

  void test('a work-queue job and a job that has not started', () => {
    assert.equal(cells('batch', 'jobs', job({ parallelism: 4 }, { succeeded: 0 }))[2], '0/1 of 4');
    assert.deepEqual(cells('batch', 'jobs', job({}, {})).slice(1, 4), ['Running', '0/1', '']);
  });

  void test('status precedence: Failed, Terminating, Suspended, FailureTarget', () => {
    assert.equal(cells('batch', 'jobs', job({}, { conditions: [{ type: 'Failed', status: 'True' }] }))[1], 'Failed');
    assert.equal(cells('batch', 'jobs', job({}, { conditions: [{ type: 'Suspended', status: 'True' }] }, { deletionTimestamp: ago(1) }))[1], 'Terminating');
    assert.equal(cells('batch', 'jobs', job({ suspend: true }, { conditions: [{ type: 'Suspended', status: 'True' }] }))[1], 'Suspended');
    assert.equal(cells('batch', 'jobs', job({}, { conditions: [{ type: 'FailureTarget', status: 'True' }] }))[1], 'FailureTarget');
    assert.equal(cells('batch', 'jobs', job({}, { conditions: [{ type: 'Suspended', status: 'False' }] }))[1], 'Running');
  });
});

void describe('batch/v1 cronjobs', () => {
  const jobTemplate = { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox' }], restartPolicy: 'OnFailure' } } } };

  void test('a cronjob that has run', () => {
    const cj = {
      metadata: meta('hello'),
      spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Paris', suspend: false, jobTemplate },
      status: { active: [{ name: 'hello-1' }], lastScheduleTime: ago(90) },
    };
    assert.deepEqual(cells('batch', 'cronjobs', cj), ['hello', '*/5 * * * *', 'Europe/Paris', 'False', 1, '90s', '2d1h', 'hello', 'busybox', '<none>']);
  });

  void test('a cronjob that never ran, without a time zone', () => {
    const cj = { metadata: meta('hello'), spec: { schedule: '@hourly', suspend: true, jobTemplate } };
    assert.deepEqual(cells('batch', 'cronjobs', cj).slice(1, 6), ['@hourly', '<none>', 'True', 0, '<none>']);
  });
});
