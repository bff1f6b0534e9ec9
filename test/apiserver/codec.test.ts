// The stored layout of objects and the list fast path that splices resourceVersion into the
// stored text: what it sends must be what decoding and re-serialising would have sent.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeObject, encodeObject, encodedWithRevision } from '../../controlplane/apiserver/registry/codec.js';

const kv = (value: string, modRevision = 42) => ({ key: '/registry/core/pods/default/p', value, createRevision: 7, modRevision, version: 1 });

describe('stored objects', () => {
  test('apiVersion, kind and metadata come first, without the resourceVersion', () => {
    const text = encodeObject({ spec: { template: { metadata: { name: 'inner' } } }, metadata: { name: 'p', resourceVersion: '9' }, kind: 'Pod', apiVersion: 'v1' } as never);
    assert.ok(text.startsWith('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":'), text);
  });

  test('splicing the revision gives what decoding and re-serialising gives', () => {
    for (const obj of [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data: { k: 'quote " and \\ and unicode é' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', annotations: { 'x/y': '{"metadata":{}}' } } },
    ]) {
      const stored = kv(encodeObject(obj as never));
      const spliced = encodedWithRevision(stored);
      assert.ok(spliced, 'laid out by encodeObject');
      assert.deepEqual(JSON.parse(spliced), JSON.parse(JSON.stringify(decodeObject(stored))));
      assert.equal(JSON.parse(spliced).metadata.resourceVersion, '42');
    }
  });

  test('text in another layout (written before this one) is left to the decoder', () => {
    assert.equal(encodedWithRevision(kv('{"metadata":{"name":"p"},"apiVersion":"v1","kind":"Pod"}')), undefined);
    assert.equal(encodedWithRevision(kv('{"apiVersion":"v1","kind":"Pod","spec":{"metadata":{}},"metadata":{}}')), undefined);
  });
});
