import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, resource, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const JOB = resource('batch', 'Job');

/** A Job as validated on create: the server has set its uid and generated selector and pod labels. */
function job(): Loose {
  const uid = '5f0c-uid';
  const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid },
    spec: {
      completions: 1,
      parallelism: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } },
    },
  };
}

describe('Job', () => {
  test('a Job with its generated selector is valid', () => assert.deepEqual(createErrors(JOB, job()), []));

  const cases: { name: string; change: (j: Loose) => void; expect: string[] }[] = [
    {
      name: 'pods of a Job may not restart forever',
      change: (j) => delete j.spec.template.spec.restartPolicy,
      expect: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    },
    {
      name: 'restart policy values',
      change: (j) => (j.spec.template.spec.restartPolicy = 'Sometimes'),
      expect: [
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
      ],
    },
    {
      name: 'counts are non-negative',
      change: (j) => {
        j.spec.parallelism = -1;
        j.spec.completions = -1;
        j.spec.backoffLimit = -1;
        j.spec.activeDeadlineSeconds = -5;
      },
      expect: [
        'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
        'spec.completions: Invalid value: -1: must be greater than or equal to 0',
        'spec.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0',
        'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
      ],
    },
    {
      name: 'the selector must be the generated one',
      change: (j) => (j.spec.selector = { matchLabels: { app: 'pi' } }),
      expect: [
        'spec.selector: Invalid value: map[string]string{"matchLabels":map[string]string{"app":"pi"}}: `selector` not auto-generated',
        'spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"5f0c-uid", "batch.kubernetes.io/job-name":"pi", "controller-uid":"5f0c-uid", "job-name":"pi"}: `selector` does not match template `labels`',
      ],
    },
    {
      name: 'a manual selector must still select the template',
      change: (j) => {
        j.spec.manualSelector = true;
        j.spec.selector = { matchLabels: { app: 'pi' } };
      },
      expect: [
        'spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"5f0c-uid", "batch.kubernetes.io/job-name":"pi", "controller-uid":"5f0c-uid", "job-name":"pi"}: `selector` does not match template `labels`',
      ],
    },
    {
      name: 'an Indexed Job needs completions',
      change: (j) => {
        j.spec.completionMode = 'Indexed';
        delete j.spec.completions;
      },
      expect: ['spec.completions: Required value: when completion mode is Indexed'],
    },
    {
      name: 'policies the Job controller does not implement are refused, not ignored',
      change: (j) => {
        j.spec.completionMode = 'Indexed';
        j.spec.backoffLimitPerIndex = 1;
        j.spec.successPolicy = { rules: [{ succeededCount: 1 }] };
        j.spec.podFailurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] };
      },
      expect: [
        'spec.podFailurePolicy: Forbidden: not supported by Skiff: its Job controller does not implement podFailurePolicy',
        'spec.successPolicy: Forbidden: not supported by Skiff: its Job controller does not implement successPolicy',
        'spec.backoffLimitPerIndex: Forbidden: not supported by Skiff: its Job controller does not implement backoffLimitPerIndex',
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(createErrors(JOB, changed(job(), c.change)), c.expect));

  test('selector and template are immutable; parallelism is not', () => {
    assert.deepEqual(updateErrors(JOB, changed(job(), (j) => (j.spec.parallelism = 3)), job()), []);
    const image = updateErrors(JOB, changed(job(), (j) => (j.spec.template.spec.containers[0].image = 'perl:5.36')), job());
    assert.equal(image.length, 1);
    assert.match(image[0] ?? '', /^spec\.template: Invalid value: .*: field is immutable$/);
    const selector = updateErrors(JOB, changed(job(), (j) => (j.spec.selector.matchLabels.extra = 'x')), job());
    assert.ok(selector.some((m) => m.startsWith('spec.selector: Invalid value: ') && m.endsWith('field is immutable')), selector.join('\n'));
  });

  test('a suspended Job that never started may move to other nodes', () => {
    const suspended = changed(job(), (j) => (j.spec.suspend = true));
    const moved = changed(suspended, (j) => (j.spec.template.spec.nodeSelector = { zone: 'b' }));
    assert.deepEqual(updateErrors(JOB, moved, suspended), []);
  });
});
