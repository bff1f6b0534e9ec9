import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, resource, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const CONFIGMAP = resource('', 'ConfigMap');
const SECRET = resource('', 'Secret');
const NAMESPACE = resource('', 'Namespace');
const NODE = resource('', 'Node');
const ENDPOINTS = resource('', 'Endpoints');
const SERVICEACCOUNT = resource('', 'ServiceAccount');

const KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

describe('ConfigMap and Secret', () => {
  const cm: Loose = { metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.properties': 'a=b' } };

  test('keys are file names, unique across data and binaryData', () => {
    assert.deepEqual(createErrors(CONFIGMAP, cm), []);
    const bad = changed(cm, (c) => {
      c.data = { 'a b': '1', '..': '2', dup: '3' };
      c.binaryData = { dup: 'AA==' };
    });
    assert.deepEqual(createErrors(CONFIGMAP, bad), [
      `data[a b]: Invalid value: "a b": ${KEY_MSG}`,
      `data[..]: Invalid value: "..": must not be '..'`,
      'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ]);
  });

  test('total size at most 1 MiB', () => {
    assert.deepEqual(createErrors(CONFIGMAP, changed(cm, (c) => (c.data.big = 'x'.repeat(1024 * 1024)))), [': Too long: may not be more than 1048576 bytes']);
  });

  test('immutable ConfigMaps keep their data', () => {
    const frozen = changed(cm, (c) => (c.immutable = true));
    assert.deepEqual(updateErrors(CONFIGMAP, changed(frozen, (c) => (c.data.x = 'y')), frozen), ['data: Forbidden: field is immutable when `immutable` is set']);
    assert.deepEqual(updateErrors(CONFIGMAP, changed(cm, (c) => (c.data.x = 'y')), cm), []);
  });

  test('secret type is immutable; stringData is checked as data', () => {
    const s: Loose = { metadata: { name: 's', namespace: 'default' }, stringData: { password: 'x' } };
    assert.deepEqual(createErrors(SECRET, s), []);
    assert.deepEqual(createErrors(SECRET, changed(s, (x) => (x.stringData = { 'bad/key': 'x' }))), [`data[bad/key]: Invalid value: "bad/key": ${KEY_MSG}`]);
    assert.deepEqual(updateErrors(SECRET, changed(s, (x) => (x.type = 'kubernetes.io/tls')), s), [
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ]);
  });
});

describe('Namespace, Node, Endpoints, ServiceAccount', () => {
  test('namespace status phase follows deletion', () => {
    const ns: Loose = { metadata: { name: 'team-a' }, status: { phase: 'Active' } };
    assert.deepEqual(createErrors(NAMESPACE, ns), []);
    assert.deepEqual(statusErrors(NAMESPACE, changed(ns, (n) => (n.status.phase = 'Terminating')), ns), [
      "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
    ]);
  });

  test('node pod CIDR and taints', () => {
    const node: Loose = { metadata: { name: 'node-1' }, spec: { podCIDR: '10.42.0.0/24' } };
    assert.deepEqual(createErrors(NODE, node), []);
    const bad = changed(node, (n) => {
      n.spec.podCIDR = '10.42.0.0/33';
      n.spec.taints = [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
        { key: 'x', effect: 'Never' },
      ];
    });
    assert.deepEqual(createErrors(NODE, bad), [
      'metadata.taints[1]: Duplicate value: map[string]string{"key":"dedicated", "value":"db", "effect":"NoSchedule"}: taints must be unique by key and effect pair',
      'metadata.taints[2].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'spec.podCIDRs[0]: Invalid value: "10.42.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    const moved = changed(node, (n) => (n.spec.podCIDR = '10.42.1.0/24'));
    assert.deepEqual(updateErrors(NODE, moved, node), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
  });

  test('endpoints addresses and ports', () => {
    const ep: Loose = {
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.42.0.7' }], ports: [{ port: 80 }] }],
    };
    assert.deepEqual(createErrors(ENDPOINTS, ep), []);
    const bad = changed(ep, (e) => {
      e.subsets[0].addresses = [{ ip: '127.0.0.1' }, { ip: 'web' }];
      e.subsets[0].ports = [{ port: 80 }, { name: 'b', port: 0 }];
    });
    assert.deepEqual(createErrors(ENDPOINTS, bad), [
      'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'subsets[0].addresses[1].ip: Invalid value: "web": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].addresses[1].ip: Invalid value: "web": must be a valid IP address',
      'subsets[0].ports[0].name: Required value',
      'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
  });

  test('service account names', () => {
    assert.deepEqual(createErrors(SERVICEACCOUNT, { metadata: { name: 'builder', namespace: 'default' } }), []);
    assert.equal(createErrors(SERVICEACCOUNT, { metadata: { name: 'Builder', namespace: 'default' } }).length, 1);
  });
});
