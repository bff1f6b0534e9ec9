import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/objects.js';
import { RESOURCES } from '../../api/resources.js';
import { applyDefaults } from '../../controlplane/apiserver/defaults/index.js';

function defaulted(group: string, kind: string, obj: KubeObject): KubeObject {
  const r = RESOURCES.find((x) => x.group === group && x.kind === kind);
  assert.ok(r);
  const copy = structuredClone(obj);
  applyDefaults(r, copy);
  return copy;
}

/** The pod template spec defaults a workload's template gets (no Pod-only fields). */
const TEMPLATE_SPEC_DEFAULTS = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};
const CONTAINER_DEFAULTS = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };

describe('apps/v1 and batch/v1 defaults', () => {
  test('a Deployment is filled in exactly as Kubernetes fills it', () => {
    const written = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
      spec: {
        selector: { matchLabels: { app: 'nginx' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:latest', ports: [{ containerPort: 80 }] }] },
        },
      },
    };
    assert.deepEqual(defaulted('apps', 'Deployment', written), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'nginx' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: {
            ...TEMPLATE_SPEC_DEFAULTS,
            containers: [{ name: 'nginx', image: 'nginx:latest', imagePullPolicy: 'Always', ports: [{ containerPort: 80, protocol: 'TCP' }], ...CONTAINER_DEFAULTS }],
          },
        },
      },
    });
  });

  test('apps/v1 never derives the selector or labels from the template', () => {
    const d = defaulted('apps', 'Deployment', { metadata: { name: 'x' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: {} } } });
    const spec = d['spec'] as Record<string, unknown>;
    assert.equal(spec['selector'], undefined);
    assert.equal(d.metadata?.labels, undefined);
  });

  test('explicit values are kept (Recreate, maxSurge 0, replicas 0)', () => {
    const d = defaulted('apps', 'Deployment', { spec: { replicas: 0, strategy: { type: 'Recreate' } } });
    assert.deepEqual((d['spec'] as Record<string, unknown>)['strategy'], { type: 'Recreate' });
    assert.equal((d['spec'] as Record<string, unknown>)['replicas'], 0);
  });

  test('ReplicaSet, DaemonSet and StatefulSet', () => {
    assert.equal((defaulted('apps', 'ReplicaSet', { spec: {} })['spec'] as Record<string, unknown>)['replicas'], 1);
    const ds = defaulted('apps', 'DaemonSet', { spec: { template: { spec: {} } } })['spec'] as Record<string, unknown>;
    assert.deepEqual(ds['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(ds['revisionHistoryLimit'], 10);
    const sts = defaulted('apps', 'StatefulSet', {
      spec: { template: { spec: {} }, volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }] },
    })['spec'] as Record<string, unknown>;
    assert.equal(sts['replicas'], 1);
    assert.equal(sts['podManagementPolicy'], 'OrderedReady');
    assert.deepEqual(sts['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(sts['persistentVolumeClaimRetentionPolicy'], { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(sts['revisionHistoryLimit'], 10);
    assert.deepEqual(sts['volumeClaimTemplates'], [
      { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }, status: { phase: 'Pending' } },
    ]);
  });

  test('Job', () => {
    const job = defaulted('batch', 'Job', {
      metadata: { name: 'pi' },
      spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } },
    });
    const spec = job['spec'] as Record<string, unknown>;
    assert.deepEqual(
      { ...spec, template: undefined },
      {
        completions: 1,
        parallelism: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        manualSelector: false,
        template: undefined,
      },
    );
    // batch/v1 (unlike apps/v1) labels the Job like its pods.
    assert.deepEqual(job.metadata?.labels, { app: 'pi' });
    const parallel = defaulted('batch', 'Job', { spec: { parallelism: 3, podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } } });
    const pspec = parallel['spec'] as Record<string, unknown>;
    assert.equal(pspec['completions'], undefined);
    assert.equal(pspec['podReplacementPolicy'], 'Failed');
    assert.deepEqual(pspec['podFailurePolicy'], { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
  });

  test('a CronJob\'s job template gets its condition patterns and pod template defaulted, not the Job\'s own fields', () => {
    const cronJob = defaulted('batch', 'CronJob', {
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: {
          spec: {
            podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'a' }] } },
          },
        },
      },
    });
    const jobSpec = ((cronJob['spec'] as Record<string, any>)['jobTemplate'] as Record<string, any>)['spec'];
    assert.deepEqual(jobSpec['podFailurePolicy'], { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
    assert.equal(jobSpec['template']['spec']['dnsPolicy'], 'ClusterFirst');
    assert.equal(jobSpec['backoffLimit'], undefined);
  });

  test('defaulting twice changes nothing', () => {
    const once = defaulted('apps', 'Deployment', { spec: { template: { spec: { containers: [{ name: 'a', image: 'a' }] } } } });
    assert.deepEqual(defaulted('apps', 'Deployment', once), once);
  });
});
