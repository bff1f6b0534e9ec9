// Server-side field validation: unknown fields with the paths Kubernetes prints, JSON type
// errors in the Go decoder's words, and the Status errors and warnings the API answers with.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import {
  checkFields,
  decodeError,
  enforceFieldValidation,
  enforcePatchedFieldValidation,
  parseFieldValidation,
  pruneUnknownFields,
  strictDecodingError,
  unknownFieldWarning,
} from '../../controlplane/apiserver/fieldvalidation.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const POD = { group: '', version: 'v1', kind: 'Pod' };

function deployment(overrides: { spec?: Record<string, unknown>; metadata?: Record<string, unknown>; container?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', 'example.com/any-key': 'x' }, annotations: { note: 'hi' }, ...overrides.metadata },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: 0.25 } } },
            { name: 'sidecar', image: 'busybox', ...overrides.container },
          ],
        },
      },
      ...overrides.spec,
    },
  };
}

function statusErrorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('checkFields', () => {
  test('a valid object has no findings; map keys are data, not fields', () => {
    assert.deepEqual(checkFields(DEPLOYMENT, deployment()), { unknown: [], typeErrors: [] });
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'anything.goes': 'v', spec: 'x' } };
    assert.deepEqual(checkFields({ group: '', version: 'v1', kind: 'ConfigMap' }, configMap), { unknown: [], typeErrors: [] });
  });

  test('reports unknown fields with their paths, inside lists with indices', () => {
    const obj = deployment({ metadata: { labelz: { a: 'b' } }, spec: { foo: 1 }, container: { imagee: 'typo' } });
    assert.deepEqual(checkFields(DEPLOYMENT, obj).unknown, ['metadata.labelz', 'spec.template.spec.containers[1].imagee', 'spec.foo']);
  });

  test('reports only the outermost unknown field', () => {
    const obj = deployment({ spec: { extra: { nested: { deeper: true } } } });
    assert.deepEqual(checkFields(DEPLOYMENT, obj).unknown, ['spec.extra']);
  });

  test('free-form fields accept anything', () => {
    const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { any: { thing: [1, 'two'] } } };
    assert.deepEqual(checkFields({ group: 'apps', version: 'v1', kind: 'ControllerRevision' }, revision), { unknown: [], typeErrors: [] });
  });

  test('null is accepted anywhere, as Go decodes it to the zero value', () => {
    assert.deepEqual(checkFields(DEPLOYMENT, deployment({ spec: { replicas: null, strategy: null } })).typeErrors, []);
  });

  test('kinds without type data report nothing', () => {
    assert.deepEqual(checkFields({ group: 'example.com', version: 'v1', kind: 'Widget' }, { spec: { x: 1 } }), { unknown: [], typeErrors: [] });
  });

  test('words type errors as the Go decoder does', () => {
    const errorsOf = (obj: unknown): string[] => checkFields(DEPLOYMENT, obj).typeErrors;
    assert.deepEqual(errorsOf(deployment({ spec: { replicas: '3' } })), [
      'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    ]);
    assert.deepEqual(errorsOf(deployment({ spec: { replicas: 1.5 } })), [
      'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32',
    ]);
    assert.deepEqual(errorsOf(deployment({ spec: { replicas: 2 ** 31 } })), [
      'json: cannot unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32',
    ]);
    assert.deepEqual(errorsOf(deployment({ spec: { paused: 'yes' } })), [
      'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool',
    ]);
    assert.deepEqual(errorsOf(deployment({ spec: { template: { spec: { containers: { name: 'x' } } } } })), [
      'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container',
    ]);
    assert.deepEqual(errorsOf(deployment({ spec: { template: { spec: { containers: ['x'] } } } })), [
      'json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type v1.Container',
    ]);
    assert.deepEqual(errorsOf(deployment({ container: { image: 7 } })), [
      'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string',
    ]);
    assert.deepEqual(errorsOf(deployment({ metadata: { labels: ['a'] } })), [
      'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string',
    ]);
    assert.deepEqual(errorsOf(deployment({ metadata: { labels: { a: 1 } } })), [
      'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    ]);
    assert.deepEqual(errorsOf({ ...deployment(), spec: 'nope' }), [
      'json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec',
    ]);
    assert.deepEqual(errorsOf([]), ['json: cannot unmarshal array into Go value of type v1.Deployment']);
  });

  test('checks the special types: IntOrString, Quantity, Time, base64 bytes', () => {
    const intOrString = deployment({ spec: { strategy: { rollingUpdate: { maxSurge: 1.5 } } } });
    assert.deepEqual(checkFields(DEPLOYMENT, intOrString).typeErrors, [
      'json: cannot unmarshal number 1.5 into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32',
    ]);
    const quantity = deployment({ container: { resources: { limits: { cpu: 'lots' } } } });
    assert.deepEqual(checkFields(DEPLOYMENT, quantity).typeErrors, [
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]);
    const suffix = deployment({ container: { resources: { limits: { memory: '5MG' } } } });
    assert.deepEqual(checkFields(DEPLOYMENT, suffix).typeErrors, ["unable to parse quantity's suffix"]);
    const time = deployment({ metadata: { creationTimestamp: 'yesterday' } });
    assert.match(checkFields(DEPLOYMENT, time).typeErrors[0] ?? '', /^parsing time "yesterday" as "2006-01-02T15:04:05Z07:00"/);
    assert.deepEqual(checkFields(DEPLOYMENT, deployment({ metadata: { creationTimestamp: '2024-05-01T10:00:00Z' } })).typeErrors, []);

    const SECRET = { group: '', version: 'v1', kind: 'Secret' };
    const secret = (data: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
    assert.deepEqual(checkFields(SECRET, secret({ a: 'aGVsbG8=', b: 'aGk=', c: '' })).typeErrors, []);
    assert.deepEqual(checkFields(SECRET, secret({ a: 'not base64!' })).typeErrors, ['illegal base64 data at input byte 3']);
    assert.deepEqual(checkFields(SECRET, secret({ a: 5 })).typeErrors, [
      'json: cannot unmarshal number into Go struct field Secret.data of type []uint8',
    ]);
  });

  test('pruneUnknownFields removes exactly the unknown fields', () => {
    const obj = deployment({ spec: { foo: 1 }, container: { imagee: 'typo' } });
    assert.deepEqual(pruneUnknownFields(DEPLOYMENT, obj), ['spec.template.spec.containers[1].imagee', 'spec.foo']);
    assert.deepEqual(obj, deployment());
    assert.deepEqual(checkFields(DEPLOYMENT, obj).unknown, []);
  });
});

describe('field validation answers', () => {
  test('strict decoding error is a 400 naming every field', () => {
    const err = strictDecodingError(DEPLOYMENT, ['spec.foo', 'spec.bar']);
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(
      err.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.bar"',
    );
  });

  test('a type error is a 400 whatever the directive', () => {
    for (const directive of ['Strict', 'Warn', 'Ignore'] as const) {
      const err = statusErrorOf(() => enforceFieldValidation(DEPLOYMENT, deployment({ spec: { replicas: 'x' } }), directive));
      assert.equal(err.code, 400);
      assert.equal(
        err.message,
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
      );
    }
    assert.equal(decodeError(POD, 'boom').message, 'Pod in version "v1" cannot be handled as a Pod: boom');
  });

  test('Strict fails, Warn drops with warnings, Ignore drops silently', () => {
    const err = statusErrorOf(() => enforceFieldValidation(DEPLOYMENT, deployment({ spec: { foo: 1 } }), 'Strict'));
    assert.equal(err.code, 400);
    assert.match(err.message, /strict decoding error: unknown field "spec.foo"$/);

    const warned = deployment({ spec: { foo: 1 } });
    assert.deepEqual(enforceFieldValidation(DEPLOYMENT, warned, 'Warn'), ['299 - "unknown field \\"spec.foo\\""']);
    assert.deepEqual(warned, deployment());

    const ignored = deployment({ spec: { foo: 1 } });
    assert.deepEqual(enforceFieldValidation(DEPLOYMENT, ignored, 'Ignore'), []);
    assert.deepEqual(ignored, deployment());
    assert.deepEqual(enforceFieldValidation(DEPLOYMENT, deployment(), 'Strict'), []);
  });

  test('a patched object that does not validate is 422 on the field "patch"', () => {
    const err = statusErrorOf(() => enforcePatchedFieldValidation(DEPLOYMENT, deployment({ spec: { foo: 1 } }), 'Strict'));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.details?.causes?.[0]?.field, 'patch');
    assert.match(err.message, /^ "" is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "spec.foo"$/);
    const typeErr = statusErrorOf(() => enforcePatchedFieldValidation(DEPLOYMENT, deployment({ spec: { replicas: true } }), 'Ignore'));
    assert.equal(typeErr.code, 422);
    assert.match(typeErr.message, /cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32$/);
  });

  test('warning header values quote like Go', () => {
    assert.equal(unknownFieldWarning('spec.foo'), '299 - "unknown field \\"spec.foo\\""');
    assert.equal(unknownFieldWarning('metadata.é'), '299 - "unknown field \\"metadata.\\u00e9\\""');
  });

  test('parseFieldValidation defaults to Warn and refuses other values with 422', () => {
    assert.equal(parseFieldValidation(null, 'CreateOptions'), 'Warn');
    assert.equal(parseFieldValidation('', 'PatchOptions'), 'Warn');
    assert.equal(parseFieldValidation('Strict', 'PatchOptions'), 'Strict');
    const err = statusErrorOf(() => parseFieldValidation('strict', 'CreateOptions'));
    assert.equal(err.code, 422);
    assert.equal(
      err.message,
      'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
    );
  });
});
