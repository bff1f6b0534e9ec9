// Duplicate fields in request bodies, which JSON.parse silently collapses: kube-apiserver's strict
// decoder reports them as `duplicate field "<path>"` (go-yaml's `line N: key "k" already set in
// map` for YAML), which fieldValidation=Strict refuses, Warn (the default) accepts with a
// warning and Ignore accepts silently; the object stored is what Go's decoder makes of the body.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeLikeGo, duplicateFields, mayHaveDuplicateKeys, yamlDuplicateKeys } from '../../controlplane/apiserver/duplicatefields.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { ApiResponse, TestCluster } from '../helpers/cluster.js';

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

/** A Deployment as JSON text, `replicas` given twice (1, then 3) and an unknown field between. */
function deploymentWithRepeats(name: string): string {
  return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"${name}"},
    "spec":{"replicas":1,"foo":true,"replicas":3,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`;
}

function warningsOf(res: ApiResponse): string[] {
  const header = res.headers['warning'];
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

describe('duplicate fields in request bodies', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.close();
  });

  test('Strict refuses a body with a duplicate field, listing strict errors in document order', async () => {
    const res = await c.api('POST', `${DEPLOYMENTS}?fieldValidation=Strict`, { body: deploymentWithRepeats('strict') });
    assert.equal(res.status, 400);
    assert.equal(res.body.reason, 'BadRequest');
    assert.equal(
      res.body.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", duplicate field "spec.replicas"',
    );
    assert.equal((await c.api('GET', `${DEPLOYMENTS}/strict`)).status, 404);
  });

  test('Warn, the default, keeps the last value and warns once per duplicate', async () => {
    for (const [name, query] of [['warn', '?fieldValidation=Warn'], ['default', '']] as const) {
      const res = await c.api('POST', `${DEPLOYMENTS}${query}`, { body: deploymentWithRepeats(name) });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.spec.replicas, 3);
      assert.equal(res.body.spec.foo, undefined);
      assert.deepEqual(warningsOf(res), ['299 - "unknown field \\"spec.foo\\""', '299 - "duplicate field \\"spec.replicas\\""']);
    }
  });

  test('Ignore accepts the body without a word', async () => {
    const res = await c.api('POST', `${DEPLOYMENTS}?fieldValidation=Ignore`, { body: deploymentWithRepeats('ignore') });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.spec.replicas, 3);
    assert.deepEqual(warningsOf(res), []);
  });

  test('objects given twice merge, as Go decodes both into the same struct or map', async () => {
    const body = `{"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"merged","labels":{"a":"1"}},
      "metadata":{"labels":{"b":"2"},"annotations":{"note":"x","note":"y"}},
      "data":{"k":"v"}}`;
    const res = await c.api('POST', `${CONFIGMAPS}?fieldValidation=Warn`, { body });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.metadata.name, 'merged');
    assert.deepEqual(res.body.metadata.labels, { a: '1', b: '2' });
    assert.deepEqual(res.body.metadata.annotations, { note: 'y' });
    assert.deepEqual(warningsOf(res), ['299 - "duplicate field \\"metadata\\""', '299 - "duplicate field \\"metadata.annotations.note\\""']);
  });

  test('keys of maps count too, and an update is checked like a create', async () => {
    const created = await c.api('POST', CONFIGMAPS, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upd' }, data: { a: '1' } } });
    assert.equal(created.status, 201);
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"upd"},"data":{"a":"2","a":"3"}}`;
    const strict = await c.api('PUT', `${CONFIGMAPS}/upd?fieldValidation=Strict`, { body });
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a"');
    const warned = await c.api('PUT', `${CONFIGMAPS}/upd`, { body });
    assert.equal(warned.status, 200, warned.text);
    assert.deepEqual(warned.body.data, { a: '3' });
    assert.deepEqual(warningsOf(warned), ['299 - "duplicate field \\"data.a\\""']);
  });

  test('a body the cheap test cannot clear but without duplicates passes untouched', async () => {
    // A string value starting with ':' looks like the end of a key to the cheap test.
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"colon"},"data":{"addr": ":8080","b" : "x\\":"}}`;
    const res = await c.api('POST', `${CONFIGMAPS}?fieldValidation=Strict`, { body });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.data, { addr: ':8080', b: 'x":' });
    assert.deepEqual(warningsOf(res), []);
  });

  test('YAML bodies: go-yaml words the repeat and numbers its line; Ignore takes the last value', async () => {
    const yaml = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: yaml-NAME', 'data:', '  a: "1"', '  a: "2"', ''].join('\n');
    const headers = { 'content-type': 'application/yaml' };
    const strict = await c.api('POST', `${CONFIGMAPS}?fieldValidation=Strict`, { body: yaml.replace('NAME', 'strict'), headers });
    assert.equal(strict.status, 400);
    assert.equal(
      strict.body.message,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 7: key "a" already set in map',
    );
    const warned = await c.api('POST', CONFIGMAPS, { body: yaml.replace('NAME', 'warn'), headers });
    assert.equal(warned.status, 201, warned.text);
    assert.deepEqual(warningsOf(warned), ['299 - "line 7: key \\"a\\" already set in map"']);
    const ignored = await c.api('POST', `${CONFIGMAPS}?fieldValidation=Ignore`, { body: yaml.replace('NAME', 'ignore'), headers });
    assert.equal(ignored.status, 201, ignored.text);
    assert.deepEqual(ignored.body.data, { a: '2' });
  });

  test('merge and strategic merge patches: duplicates in the patch itself are strict errors', async () => {
    const created = await c.api('POST', CONFIGMAPS, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched' }, data: { a: '0' } } });
    assert.equal(created.status, 201);
    const patch = '{"data":{"a":"1","a":"2"},"foo":1}';
    for (const contentType of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const headers = { 'content-type': contentType };
      const strict = await c.api('PATCH', `${CONFIGMAPS}/patched?fieldValidation=Strict`, { body: patch, headers });
      assert.equal(strict.status, 422, contentType);
      assert.equal(strict.body.details.causes[0].field, 'patch');
      assert.match(strict.body.message, /strict decoding error: duplicate field "data\.a", unknown field "foo"$/);
      const warned = await c.api('PATCH', `${CONFIGMAPS}/patched`, { body: patch, headers });
      assert.equal(warned.status, 200, warned.text);
      assert.deepEqual(warned.body.data, { a: '2' });
      assert.deepEqual(warningsOf(warned), ['299 - "duplicate field \\"data.a\\""', '299 - "unknown field \\"foo\\""']);
      const ignored = await c.api('PATCH', `${CONFIGMAPS}/patched?fieldValidation=Ignore`, { body: patch, headers });
      assert.equal(ignored.status, 200, ignored.text);
      assert.deepEqual(warningsOf(ignored), []);
      const malformed = await c.api('PATCH', `${CONFIGMAPS}/patched?fieldValidation=Strict`, { body: '{"data":{"a":"1', headers });
      assert.equal(malformed.status, 400, 'the patch parser still answers a syntax error');
    }
  });
});

describe('finding and decoding duplicate fields', () => {
  const check = (text: string) => mayHaveDuplicateKeys(text, JSON.parse(text));

  test('the cheap test clears bodies without repeats and never clears one with a repeat', () => {
    assert.equal(check('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}'), false);
    assert.equal(check('{"a":"x\\":","b":"\\\\"}'), false, 'escaped quotes and backslashes');
    assert.equal(check('{"a":1,"b":{"c":1,"c":2}}'), true);
    assert.equal(check('{"a" :1, "b":2, "b" : 3}'), true, 'whitespace before the colon');
    assert.equal(check('{"a":1,"\\u0061":2}'), true, 'a key spelled with an escape');
  });

  test('untyped decoding (patches) reports every repeat with its path, once, in order', () => {
    assert.deepEqual(duplicateFields('[{"op":"add","op":"x","value":{"a":[1,{"b":1,"b":2}]}},{"c":1,"c":2,"c":3}]'), [
      'duplicate field "[0].op"',
      'duplicate field "[0].value.a[1].b"',
      'duplicate field "[1].c"',
    ]);
    const many = `{${Array.from({ length: 150 }, (_, i) => `"k${i}":1,"k${i}":2`).join(',')}}`;
    assert.equal(duplicateFields(many).length, 100, 'sigs.k8s.io/json keeps at most 100 strict errors');
  });

  test('typed decoding merges structs and maps, decodes list items into the earlier ones, replaces scalars', () => {
    const text = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1"}},
      "spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":80}]}],"restartPolicy":"Always",
              "containers":[{"name":"d"}],"restartPolicy":"Never","nodeSelector":{"x":"1"},"nodeSelector":{"y":"2","y":"3"}},
      "metadata":{"labels":{"b":"2"}}}`;
    const { value, strictErrors } = decodeLikeGo(text, 'io.k8s.api.core.v1.Pod');
    assert.deepEqual(value, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { a: '1', b: '2' } },
      spec: { containers: [{ name: 'd', image: 'x', ports: [{ containerPort: 80 }] }], restartPolicy: 'Never', nodeSelector: { x: '1', y: '3' } },
    });
    assert.deepEqual(strictErrors, [
      'duplicate field "spec.containers"',
      'duplicate field "spec.restartPolicy"',
      'duplicate field "spec.nodeSelector"',
      'duplicate field "spec.nodeSelector.y"',
      'duplicate field "metadata"',
    ]);
  });

  test('values Go decodes whole (RawExtension, unknown fields) are not searched for repeats', () => {
    const text = `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"r"},"revision":1,
      "data":{"x":1,"x":2},"extra":{"y":1,"y":2}}`;
    const { value, strictErrors } = decodeLikeGo(text, 'io.k8s.api.apps.v1.ControllerRevision');
    assert.deepEqual(strictErrors, ['unknown field "extra"']);
    assert.deepEqual(value['data'], { x: 2 });
  });

  test('YAML: inner repeats before the key holding them, each at the line of its value', () => {
    const yaml = ['a: 1', 'b:', '  c: 1', '  c: 2', 'a: 3', 'd:', '  x: 1', 'd:', '  y: 2', ''].join('\n');
    assert.equal(
      yamlDuplicateKeys(yaml),
      'yaml: unmarshal errors:\n  line 4: key "c" already set in map\n  line 5: key "a" already set in map\n  line 9: key "d" already set in map',
    );
    assert.equal(yamlDuplicateKeys('a: 1\nb: {a: 1}\n'), undefined);
  });
});
