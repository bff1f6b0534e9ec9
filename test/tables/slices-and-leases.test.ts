import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ago, cells } from './fixtures.js';

void describe('discovery.k8s.io/v1 endpoint slices', () => {
  void test('ports and endpoints, the first three', () => {
    const slice: EndpointSlice = {
      metadata: { name: 'web-abc12', namespace: 'default', creationTimestamp: ago(600), labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics' }],
      endpoints: [
        { addresses: ['10.42.0.5'], conditions: { ready: true } },
        { addresses: ['10.42.0.6'], conditions: { ready: false } },
        { addresses: ['10.42.1.5'] },
        { addresses: ['10.42.1.6'] },
      ],
    };
    assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', slice), ['web-abc12', 'IPv4', '80,metrics', '10.42.0.5,10.42.0.6,10.42.1.5 + 1 more...', '10m']);
  });

  void test('an empty slice is <unset>; a port with neither number nor name is *', () => {
    const slice: EndpointSlice = { metadata: { name: 'empty', creationTimestamp: ago(5) }, addressType: 'IPv4', endpoints: [], ports: [{}] };
    assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', slice), ['empty', 'IPv4', '*', '<unset>', '5s']);
    assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', { ...slice, ports: [] }).slice(2, 4), ['<unset>', '<unset>']);
  });
});

void describe('coordination.k8s.io/v1 leases', () => {
  void test('holder, or empty when nobody holds it', () => {
    const lease: Lease = {
      metadata: { name: 'skiff-controllers', namespace: 'kube-system', creationTimestamp: ago(86400 * 40) },
      spec: { holderIdentity: 'server-1_4f2a', leaseDurationSeconds: 15 },
    };
    assert.deepEqual(cells('coordination.k8s.io', 'leases', lease), ['skiff-controllers', 'server-1_4f2a', '40d']);
    assert.deepEqual(cells('coordination.k8s.io', 'leases', { metadata: { name: 'free', creationTimestamp: ago(30) }, spec: {} }), ['free', '', '30s']);
  });
});
