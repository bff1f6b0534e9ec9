// PATCH dispatch by Content-Type, and the errors kube-apiserver answers malformed or failing
// patches with.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { MAX_JSON_PATCH_OPERATIONS, applyPatch } from '../../controlplane/apiserver/patch/index.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };

function live(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
    spec: {
      replicas: 1,
      template: { spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }, { name: 'side', image: 'busybox' }] } },
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

type Any = Record<string, any>;

describe('applyPatch', () => {
  test('JSON patch (RFC 6902) applies operations without touching the live object', () => {
    const current = live();
    const result = applyPatch(
      'application/json-patch+json',
      DEPLOYMENT,
      current,
      JSON.stringify([
        { op: 'test', path: '/spec/replicas', value: 1 },
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/metadata/labels/new', value: 'yes' },
        { op: 'remove', path: '/spec/template/spec/containers/1' },
      ]),
    ) as Any;
    assert.equal(result.spec.replicas, 3);
    assert.equal(result.metadata.labels.new, 'yes');
    assert.equal(result.spec.template.spec.containers.length, 1);
    assert.deepEqual(current, live());
  });

  test('JSON patch: a body that is not a list of operations is 400 "error decoding patch"', () => {
    const notArray = statusErrorOf(() => applyPatch('application/json-patch+json', DEPLOYMENT, live(), '{"spec":{"replicas":2}}'));
    assert.equal(notArray.code, 400);
    assert.equal(notArray.reason, 'BadRequest');
    assert.equal(notArray.message, 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
    const malformed = statusErrorOf(() => applyPatch('application/json-patch+json', DEPLOYMENT, live(), '[{"op":'));
    assert.equal(malformed.code, 400);
    assert.match(malformed.message, /^error decoding patch: /);
    const notOps = statusErrorOf(() => applyPatch('application/json-patch+json', DEPLOYMENT, live(), '["replace"]'));
    assert.equal(notOps.code, 400);
  });

  test('JSON patch: a failing test or a missing path is 422 as kube-apiserver answers it', () => {
    for (const ops of [
      [{ op: 'test', path: '/spec/replicas', value: 5 }],
      [{ op: 'remove', path: '/spec/nothing' }],
      [{ op: 'replace', path: '/spec/nothing/deeper', value: 1 }],
      [{ op: 'frobnicate', path: '/spec' }],
    ]) {
      const err = statusErrorOf(() => applyPatch('application/json-patch+json', DEPLOYMENT, live(), JSON.stringify(ops)));
      assert.equal(err.code, 422, JSON.stringify(ops));
      assert.equal(err.reason, 'Invalid');
      assert.equal(err.message, 'the server rejected our request due to an error in our request');
    }
  });

  test('JSON patch: too many operations is 413', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    const err = statusErrorOf(() => applyPatch('application/json-patch+json', DEPLOYMENT, live(), JSON.stringify(ops)));
    assert.equal(err.code, 413);
  });

  test('merge patch (RFC 7396) merges maps, replaces lists, deletes with null', () => {
    const current = live();
    const result = applyPatch(
      'application/merge-patch+json',
      DEPLOYMENT,
      current,
      JSON.stringify({ metadata: { labels: { tier: null, v: '2' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } }),
    ) as Any;
    assert.deepEqual(result.metadata.labels, { app: 'web', v: '2' });
    assert.deepEqual(result.spec.template.spec.containers, [{ name: 'web', image: 'nginx:2' }]);
    assert.deepEqual(current, live());
    const notObject = statusErrorOf(() => applyPatch('application/merge-patch+json', DEPLOYMENT, live(), '[1]'));
    assert.equal(notObject.code, 400);
    const malformed = statusErrorOf(() => applyPatch('application/merge-patch+json', DEPLOYMENT, live(), '{'));
    assert.equal(malformed.code, 400);
    assert.match(malformed.message, /^error decoding patch: /);
  });

  test('strategic merge patch merges containers by name, with a charset parameter too', () => {
    const current = live();
    const result = applyPatch(
      'application/strategic-merge-patch+json; charset=utf-8',
      DEPLOYMENT,
      current,
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } }),
    ) as Any;
    assert.deepEqual(result.spec.template.spec.containers, [
      { name: 'web', image: 'nginx:2', ports: [{ containerPort: 80 }] },
      { name: 'side', image: 'busybox' },
    ]);
    assert.deepEqual(current, live());
  });

  test('strategic merge patch errors map to Kubernetes codes', () => {
    const notObject = statusErrorOf(() => applyPatch('application/strategic-merge-patch+json', DEPLOYMENT, live(), '[]'));
    assert.equal(notObject.code, 400);
    assert.equal(notObject.message, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    const badFormat = statusErrorOf(() =>
      applyPatch('application/strategic-merge-patch+json', DEPLOYMENT, live(), '{"spec":{"template":{"spec":{"$setElementOrder/containers":"web"}}}}'),
    );
    assert.equal(badFormat.code, 500);
    const noMergeKey = statusErrorOf(() =>
      applyPatch('application/strategic-merge-patch+json', DEPLOYMENT, live(), '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}'),
    );
    assert.equal(noMergeKey.code, 500);
    assert.equal(noMergeKey.reason, 'InternalError');
    const retain = statusErrorOf(() => applyPatch('application/strategic-merge-patch+json', DEPLOYMENT, live(), '{"spec":{"$retainKeys":"x"}}'));
    assert.equal(retain.code, 400);
    assert.equal(retain.message, 'invalid patch format of retainKeys');
  });

  test('server-side apply is 415 with a clear message', () => {
    const err = statusErrorOf(() => applyPatch('application/apply-patch+yaml', DEPLOYMENT, live(), '{}'));
    assert.equal(err.code, 415);
    assert.equal(err.reason, 'UnsupportedMediaType');
    assert.match(err.message, /server-side apply .* is not supported/);
    assert.match(err.message, /kubectl apply/);
  });

  test('any other content type is 415 listing the supported ones', () => {
    for (const type of ['application/json', 'text/plain', '']) {
      const err = statusErrorOf(() => applyPatch(type, DEPLOYMENT, live(), '{}'));
      assert.equal(err.code, 415);
      assert.equal(
        err.message,
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
      );
    }
  });
});
