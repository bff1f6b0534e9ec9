import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Node, Service } from 'kubernetes-types/core/v1.js';
import { ago, cells } from './fixtures.js';

const meta = (name: string, extra: object = {}) => ({ name, namespace: 'default', creationTimestamp: ago(600), ...extra });

void describe('services', () => {
  const base: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('web'),
    spec: {
      type: 'NodePort',
      clusterIP: '10.43.12.7',
      clusterIPs: ['10.43.12.7'],
      selector: { tier: 'front', app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  };

  void test('a NodePort service', () => {
    assert.deepEqual(cells('', 'services', base), ['web', 'NodePort', '10.43.12.7', '<none>', '80:30080/TCP,53/UDP', '10m', 'app=web,tier=front']);
  });

  void test('a ClusterIP service with external IPs, no selector and default protocol', () => {
    const svc: Service = { metadata: meta('db'), spec: { clusterIP: '10.43.0.20', externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 5432 }] } };
    assert.deepEqual(cells('', 'services', svc), ['db', 'ClusterIP', '10.43.0.20', '192.0.2.1,192.0.2.2', '5432/TCP', '10m', '<none>']);
  });

  void test('a headless service without ports', () => {
    const svc: Service = { metadata: meta('peers'), spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: { app: 'db' } } };
    assert.deepEqual(cells('', 'services', svc), ['peers', 'ClusterIP', 'None', '<none>', '<none>', '10m', 'app=db']);
  });

  void test('a LoadBalancer is <pending> until it has an ingress address', () => {
    const svc: Service = { ...base, spec: { ...base.spec, type: 'LoadBalancer' } };
    assert.equal(cells('', 'services', svc)[3], '<pending>');
    const ready: Service = { ...svc, status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.9' }] } } };
    assert.equal(cells('', 'services', ready)[3], '203.0.113.9,lb.example.com');
    const withExternal: Service = { ...ready, spec: { ...ready.spec, externalIPs: ['192.0.2.1'] } };
    assert.equal(cells('', 'services', withExternal)[3], '203.0.113.9,lb.example.com,192.0.2.1');
  });

  void test('an ExternalName service shows the name', () => {
    const svc: Service = { metadata: meta('search'), spec: { type: 'ExternalName', externalName: 'search.example.com' } };
    assert.deepEqual(cells('', 'services', svc), ['search', 'ExternalName', '<none>', 'search.example.com', '<none>', '10m', '<none>']);
  });

  void test('clusterIP wins over clusterIPs', () => {
    const svc: Service = { metadata: meta('dual'), spec: { type: 'ClusterIP', clusterIPs: ['fd00::1', '10.43.0.9'] } };
    assert.equal(cells('', 'services', svc)[2], 'fd00::1');
  });
});

void describe('nodes', () => {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', creationTimestamp: ago(3 * 86400 + 4 * 3600), labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' } },
    spec: { podCIDR: '10.42.0.0/24' },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [
        { type: 'Hostname', address: 'node-1' },
        { type: 'InternalIP', address: '192.168.1.10' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0-skiff',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-18-amd64',
        containerRuntimeVersion: 'docker://26.1.5',
        architecture: 'amd64',
        bootID: '',
        kubeProxyVersion: '',
        machineID: '',
        operatingSystem: 'linux',
        systemUUID: '',
      },
    },
  };

  void test('a ready node with roles', () => {
    assert.deepEqual(cells('', 'nodes', node), [
      'node-1',
      'Ready',
      'control-plane,worker',
      '3d4h',
      'v1.32.0-skiff',
      '192.168.1.10',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0-18-amd64',
      'docker://26.1.5',
    ]);
  });

  void test('NotReady, cordoned, legacy role label', () => {
    const n: Node = {
      metadata: { name: 'node-2', labels: { 'kubernetes.io/role': 'edge' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    };
    assert.deepEqual(cells('', 'nodes', n).slice(0, 5), ['node-2', 'NotReady,SchedulingDisabled', 'edge', '<unknown>', '']);
    assert.deepEqual(cells('', 'nodes', n).slice(5), ['<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  void test('a node that has not reported yet is Unknown with no roles', () => {
    assert.deepEqual(cells('', 'nodes', { metadata: { name: 'node-3' } }).slice(1, 3), ['Unknown', '<none>']);
    assert.equal(cells('', 'nodes', { metadata: { name: 'node-3' }, spec: { unschedulable: true } })[1], 'Unknown,SchedulingDisabled');
  });
});

void describe('namespaces, config maps, secrets, service accounts', () => {
  void test('namespace', () => {
    assert.deepEqual(cells('', 'namespaces', { metadata: { name: 'team-a', creationTimestamp: ago(45) }, status: { phase: 'Active' } }), ['team-a', 'Active', '45s']);
    assert.deepEqual(cells('', 'namespaces', { metadata: { name: 'old', creationTimestamp: ago(7200) }, status: { phase: 'Terminating' } }), ['old', 'Terminating', '120m']);
  });

  void test('config map counts text and binary keys', () => {
    assert.deepEqual(cells('', 'configmaps', { metadata: meta('settings'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['settings', 3, '10m']);
    assert.deepEqual(cells('', 'configmaps', { metadata: meta('empty') }), ['empty', 0, '10m']);
  });

  void test('secret shows its type and number of keys', () => {
    assert.deepEqual(cells('', 'secrets', { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }), ['tls', 'kubernetes.io/tls', 2, '10m']);
    assert.deepEqual(cells('', 'secrets', { metadata: meta('plain'), data: { password: 'cGFzcw==' } }), ['plain', 'Opaque', 1, '10m']);
  });

  void test('service account counts its secrets', () => {
    assert.deepEqual(cells('', 'serviceaccounts', { metadata: meta('default') }), ['default', 0, '10m']);
    assert.deepEqual(cells('', 'serviceaccounts', { metadata: meta('builder'), secrets: [{ name: 'builder-token' }] }), ['builder', 1, '10m']);
  });
});

void describe('endpoints', () => {
  void test('ready addresses with their ports, three shown', () => {
    const ep: Endpoints = {
      metadata: meta('web'),
      subsets: [
        {
          addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }],
          notReadyAddresses: [{ ip: '10.42.0.9' }],
          ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }],
        },
      ],
    };
    assert.deepEqual(cells('', 'endpoints', ep), ['web', '10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more...', '10m']);
  });

  void test('two addresses fit', () => {
    const ep: Endpoints = { metadata: meta('web'), subsets: [{ addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }], ports: [{ port: 80 }] }] };
    assert.equal(cells('', 'endpoints', ep)[1], '10.42.0.5:80,10.42.0.6:80');
  });

  void test('a subset without ports lists bare IPs; IPv6 is bracketed with a port', () => {
    const ep: Endpoints = {
      metadata: meta('mixed'),
      subsets: [{ addresses: [{ ip: '10.42.0.5' }] }, { addresses: [{ ip: 'fd00::5' }], ports: [{ port: 8080 }] }],
    };
    assert.equal(cells('', 'endpoints', ep)[1], '10.42.0.5,[fd00::5]:8080');
  });

  void test('no subsets is <none>', () => {
    assert.equal(cells('', 'endpoints', { metadata: meta('idle') })[1], '<none>');
    assert.equal(cells('', 'endpoints', { metadata: meta('idle'), subsets: [] })[1], '<none>');
  });
});
