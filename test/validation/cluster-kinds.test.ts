import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, resource, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const EVENT = resource('', 'Event');
const EVENTS_V1 = resource('events.k8s.io', 'Event');
const SLICE = resource('discovery.k8s.io', 'EndpointSlice');
const LEASE = resource('coordination.k8s.io', 'Lease');

describe('Events', () => {
  const legacy: Loose = {
    metadata: { name: 'web.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Started',
    type: 'Normal',
  };
  const modern: Loose = {
    metadata: { name: 'web.17b', namespace: 'default' },
    eventTime: '2024-01-01T00:00:00.000000Z',
    regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Started',
    action: 'Start',
    type: 'Normal',
    reportingController: 'skiff.dev/agent',
    reportingInstance: 'agent-node-1',
  };

  test('core/v1: the event lives in its object\'s namespace', () => {
    assert.deepEqual(createErrors(EVENT, legacy), []);
    assert.deepEqual(createErrors(EVENT, changed(legacy, (e) => (e.involvedObject.namespace = 'other'))), [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
  });

  test('events.k8s.io/v1: required fields and type', () => {
    assert.deepEqual(createErrors(EVENTS_V1, modern), []);
    const bad = changed(modern, (e) => {
      delete e.reportingController;
      delete e.action;
      e.type = 'Info';
      e.deprecatedCount = 3;
    });
    assert.deepEqual(createErrors(EVENTS_V1, bad), [
      'reportingController: Required value',
      'reportingController: Invalid value: "": name part must be non-empty',
      'action: Required value',
      'type: Invalid value: "": has invalid value: Info',
      'count: Invalid value: "": needs to be unset',
    ]);
  });

  test('events.k8s.io/v1: only the series may change', () => {
    const next = changed(modern, (e) => (e.note = 'changed'));
    assert.deepEqual(updateErrors(EVENTS_V1, next, modern), ['message: Invalid value: "changed": field is immutable']);
  });
});

describe('EndpointSlice', () => {
  const slice: Loose = {
    metadata: { name: 'web-abc', namespace: 'default' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.42.0.7'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 80 }],
  };

  test('addresses valid for the type, ports with unique names', () => {
    assert.deepEqual(createErrors(SLICE, slice), []);
    const bad = changed(slice, (s) => {
      s.endpoints = [{ addresses: ['fe80::1'] }, { addresses: [] }];
      s.ports = [{ name: 'http', port: 80 }, { name: 'http', port: 81, protocol: 'ICMP' }];
    });
    assert.deepEqual(createErrors(SLICE, bad), [
      'endpoints[0].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address',
      'endpoints[0].addresses[0]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      'endpoints[1].addresses: Required value: must contain at least 1 address',
      'ports[1].name: Duplicate value: "http"',
      'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  test('addressType is required and immutable', () => {
    assert.deepEqual(createErrors(SLICE, changed(slice, (s) => delete s.addressType)), ['addressType: Required value']);
    const v6 = changed(slice, (s) => {
      s.addressType = 'IPv6';
      s.endpoints = [{ addresses: ['2001:db8::7'] }];
    });
    assert.deepEqual(updateErrors(SLICE, v6, slice), ['addressType: Invalid value: "IPv6": field is immutable']);
  });
});

describe('Lease', () => {
  test('durations', () => {
    const lease: Loose = { metadata: { name: 'skiff-leader', namespace: 'kube-system' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
    assert.deepEqual(createErrors(LEASE, lease), []);
    assert.deepEqual(createErrors(LEASE, changed(lease, (l) => {
      l.spec.leaseDurationSeconds = 0;
      l.spec.leaseTransitions = -1;
    })), [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});
