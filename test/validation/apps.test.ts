import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, deployment, DEPLOYMENT, resource, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const REPLICASET = resource('apps', 'ReplicaSet');
const DAEMONSET = resource('apps', 'DaemonSet');
const STATEFULSET = resource('apps', 'StatefulSet');
const REVISION = resource('apps', 'ControllerRevision');

function workload(kind: string): Loose {
  const d = deployment();
  d.kind = kind;
  delete d.spec.replicas;
  return d;
}

describe('Deployment', () => {
  const cases: { name: string; change: (d: Loose) => void; expect: string[] }[] = [
    {
      name: 'selector required (and then it selects nothing)',
      change: (d) => delete d.spec.selector,
      expect: ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
    },
    {
      name: 'template labels must match the selector',
      change: (d) => (d.spec.template.metadata.labels = { app: 'x' }),
      expect: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`'],
    },
    {
      name: 'empty selector',
      change: (d) => (d.spec.selector = {}),
      expect: ['spec.selector: Invalid value: map[string]string{}: empty selector is invalid for deployment'],
    },
    {
      name: 'malformed selector expression, and the template is not checked',
      change: (d) => {
        d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Has', values: ['web'] }] };
        d.spec.template.spec.containers = [];
      },
      expect: [
        'spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator',
        'spec.selector: Invalid value: map[string]string{"matchExpressions":[{"key":"app","operator":"Has","values":["web"]}]}: invalid label selector',
      ],
    },
    { name: 'replicas >= 0', change: (d) => (d.spec.replicas = -1), expect: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
    {
      name: 'rolling update: int or percent, not both zero, at most 100%',
      change: (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }),
      expect: ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
    },
    {
      name: 'percent syntax',
      change: (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25 %', maxUnavailable: '150%' } }),
      expect: [
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"25 %\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
      ],
    },
    {
      name: 'progressDeadlineSeconds must exceed minReadySeconds',
      change: (d) => {
        d.spec.minReadySeconds = 600;
        d.spec.revisionHistoryLimit = -1;
      },
      expect: [
        'spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
        'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
      ],
    },
    {
      name: 'template restart policy must be Always',
      change: (d) => (d.spec.template.spec.restartPolicy = 'OnFailure'),
      expect: ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    },
    {
      name: 'pod template spec is validated with full paths',
      change: (d) => (d.spec.template.spec.containers[0].ports = [{ containerPort: 80 }, { containerPort: 0 }]),
      expect: ['spec.template.spec.containers[0].ports[1].containerPort: Required value'],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(createErrors(DEPLOYMENT, changed(deployment(), c.change)), c.expect));

  test('the selector is immutable', () => {
    const next = changed(deployment(), (d) => {
      d.spec.selector.matchLabels = { app: 'web2' };
      d.spec.template.metadata.labels = { app: 'web2' };
    });
    assert.deepEqual(updateErrors(DEPLOYMENT, next, deployment()), [
      'spec.selector: Invalid value: map[string]string{"matchLabels":map[string]string{"app":"web2"}}: field is immutable',
    ]);
    assert.deepEqual(updateErrors(DEPLOYMENT, changed(deployment(), (d) => (d.spec.replicas = 5)), deployment()), []);
  });

  test('status counters', () => {
    const now = changed(deployment(), (d) => (d.status = { replicas: 1, readyReplicas: 2, availableReplicas: 1 }));
    assert.deepEqual(statusErrors(DEPLOYMENT, now, deployment()), ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']);
  });
});

describe('ReplicaSet, DaemonSet, StatefulSet, ControllerRevision', () => {
  test('valid objects', () => {
    assert.deepEqual(createErrors(REPLICASET, workload('ReplicaSet')), []);
    assert.deepEqual(createErrors(DAEMONSET, workload('DaemonSet')), []);
    assert.deepEqual(createErrors(STATEFULSET, workload('StatefulSet')), []);
  });

  test('ReplicaSet selector is immutable', () => {
    const next = changed(workload('ReplicaSet'), (r) => (r.spec.selector.matchLabels.tier = 'x'));
    assert.equal(updateErrors(REPLICASET, next, workload('ReplicaSet')).length, 2);
  });

  test('DaemonSet rolling update may not surge and take pods down at once', () => {
    const ds = changed(workload('DaemonSet'), (d) => (d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } }));
    assert.deepEqual(createErrors(DAEMONSET, ds), ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero']);
  });

  test('StatefulSet names are DNS labels and only some spec fields may change', () => {
    const sts = changed(workload('StatefulSet'), (s) => (s.spec.serviceName = 'web'));
    const errs = createErrors(STATEFULSET, changed(sts, (s) => (s.metadata.name = 'web.v1')));
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? '', /^metadata\.name: Invalid value: "web\.v1": a lowercase RFC 1123 label/);
    assert.deepEqual(updateErrors(STATEFULSET, changed(sts, (s) => (s.spec.replicas = 3)), sts), []);
    assert.deepEqual(updateErrors(STATEFULSET, changed(sts, (s) => (s.spec.serviceName = 'other')), sts), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  test('ControllerRevision needs data and keeps it', () => {
    const cr = { metadata: { name: 'web-1', namespace: 'default' }, revision: 1, data: { spec: {} } };
    assert.deepEqual(createErrors(REVISION, cr), []);
    assert.deepEqual(createErrors(REVISION, changed(cr, (c: Loose) => {
      delete c.data;
      c.revision = -1;
    })), ['data: Required value: data is mandatory', 'revision: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(updateErrors(REVISION, changed(cr, (c: Loose) => (c.data = { spec: { x: 1 } })), cr), [
      'data: Invalid value: map[string]string{"spec":map[string]string{"x":1}}: field is immutable',
    ]);
  });
});
