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

  test('a pod failure policy is accepted, its condition status defaulted to True', () => {
    const withPolicy = changed(job(), (j) => {
      j.spec.template.spec.initContainers = [{ name: 'setup', image: 'busybox' }];
      j.spec.podFailurePolicy = {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: 'pi', operator: 'In', values: [42] } },
          { action: 'Ignore', onExitCodes: { containerName: 'setup', operator: 'NotIn', values: [0, 1] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          { action: 'Count', onPodConditions: [{ type: 'ConfigIssue', status: 'False' }] },
        ],
      };
    });
    assert.deepEqual(createErrors(JOB, withPolicy), []);
    assert.deepEqual(updateErrors(JOB, withPolicy, withPolicy), []);
    const changedPolicy = changed(withPolicy, (j) => (j.spec.podFailurePolicy.rules[0].action = 'Count'));
    const errs = updateErrors(JOB, changedPolicy, withPolicy);
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /^spec\.podFailurePolicy: Invalid value: .*: field is immutable$/);
  });

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
        j.spec.podFailurePolicy = { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [42] } }] };
      },
      expect: [
        'spec.successPolicy: Forbidden: not supported by Skiff: its Job controller does not implement successPolicy',
        'spec.backoffLimitPerIndex: Forbidden: not supported by Skiff: its Job controller does not implement backoffLimitPerIndex',
      ],
    },
    {
      name: 'a FailIndex rule needs backoffLimitPerIndex',
      change: (j) => (j.spec.podFailurePolicy = { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [42] } }] }),
      expect: ['spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set'],
    },
    {
      name: 'pod failure policy rules: action, operator, exit codes and condition patterns',
      change: (j) => {
        j.spec.podFailurePolicy = {
          rules: [
            { action: 'Retry', onExitCodes: { containerName: 'other', operator: 'Within', values: [1, 3, 3] } },
            { onExitCodes: { operator: 'In', values: [0] } },
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'Maybe' }] },
          ],
        };
      },
      expect: [
        'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
        'spec.podFailurePolicy.rules[0].onExitCodes.operator: Unsupported value: "Within": supported values: "In", "NotIn"',
        'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "other": must be one of the container or initContainer names in the pod template',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3',
        'spec.podFailurePolicy.rules[1].action: Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
        'spec.podFailurePolicy.rules[1].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[2].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      ],
    },
    {
      name: 'a pod failure policy needs restartPolicy Never and podReplacementPolicy Failed',
      change: (j) => {
        j.spec.template.spec.restartPolicy = 'OnFailure';
        j.spec.podReplacementPolicy = 'TerminatingOrFailed';
        j.spec.podFailurePolicy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] };
      },
      expect: [
        'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(createErrors(JOB, changed(job(), c.change)), c.expect));

  test('a pod failure policy has at most 20 rules, 255 exit codes and 20 condition patterns a rule', () => {
    const errs = createErrors(
      JOB,
      changed(job(), (j) => {
        const rule = { action: 'Count', onExitCodes: { operator: 'NotIn', values: Array.from({ length: 256 }, (_, i) => i) } };
        const patterns = Array.from({ length: 21 }, (_, i) => ({ type: `Condition${i}` }));
        j.spec.podFailurePolicy = { rules: [rule, { action: 'Ignore', onPodConditions: patterns }, ...Array.from({ length: 19 }, () => ({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }))] };
      }),
    );
    // As field.TooMany prints them: the count, then the limit.
    assert.deepEqual(errs, [
      'spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items',
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Too many: 256: must have at most 255 items',
      'spec.podFailurePolicy.rules[1].onPodConditions: Too many: 21: must have at most 20 items',
    ]);
  });

  test('a rule says exactly one of onExitCodes and onPodConditions, and its exit codes are ordered', () => {
    const errs = createErrors(
      JOB,
      changed(job(), (j) => {
        j.spec.podFailurePolicy = {
          rules: [
            { action: 'Count', onExitCodes: { operator: 'In', values: [3, 1] }, onPodConditions: [{ type: 'DisruptionTarget' }] },
            { action: 'Count' },
            { action: 'Count', onExitCodes: { operator: 'NotIn', values: [] } },
          ],
        };
      }),
    );
    const expected: [string, string][] = [
      ['spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: ', ': must be ordered'],
      ['spec.podFailurePolicy.rules[0]: Invalid value: ', ': specifying both OnExitCodes and OnPodConditions is not supported'],
      ['spec.podFailurePolicy.rules[1]: Invalid value: ', ': specifying one of OnExitCodes and OnPodConditions is required'],
      ['spec.podFailurePolicy.rules[2].onExitCodes.values: Invalid value: ', ': at least one value is required'],
    ];
    assert.equal(errs.length, expected.length, errs.join('\n'));
    expected.forEach(([start, end], i) => assert.ok(errs[i]!.startsWith(start) && errs[i]!.endsWith(end), errs[i]));
  });

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
