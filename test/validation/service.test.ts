import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, service, SERVICE, statusErrors, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

/** A service as stored after the API server allocated its cluster IP. */
function allocated(): Loose {
  return changed(service(), (s) => {
    s.spec.clusterIP = '10.43.0.5';
    s.spec.clusterIPs = ['10.43.0.5'];
  });
}

describe('service on create', () => {
  test('valid services', () => {
    assert.deepEqual(createErrors(SERVICE, service()), []);
    assert.deepEqual(createErrors(SERVICE, changed(service(), (s) => (s.spec.clusterIP = 'None'))), []);
    assert.deepEqual(createErrors(SERVICE, { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com.' } }), []);
  });

  const cases: { name: string; change: (s: Loose) => void; expect: string[] }[] = [
    { name: 'ports required', change: (s) => delete s.spec.ports, expect: ['spec.ports: Required value'] },
    {
      name: 'port range, named target ports, protocols',
      change: (s) => (s.spec.ports = [{ port: 0, targetPort: 'Web_Port', protocol: 'ICMP' }]),
      expect: [
        'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        'spec.ports[0].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    },
    {
      name: 'names required and unique with several ports; port+protocol unique',
      change: (s) => (s.spec.ports = [{ port: 80 }, { name: 'a', port: 80 }, { name: 'a', port: 81 }]),
      expect: [
        'spec.ports[0].name: Required value',
        'spec.ports[2].name: Duplicate value: "a"',
        'spec.ports[1]: Duplicate value: map[string]string{"port":80, "protocol":"TCP"}',
      ],
    },
    {
      name: 'type values',
      change: (s) => (s.spec.type = 'Internal'),
      expect: ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
    },
    {
      name: 'node ports are not for ClusterIP services',
      change: (s) => (s.spec.ports[0].nodePort = 30080),
      expect: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    },
    {
      name: 'node port syntax (the range is the allocator\'s)',
      change: (s) => {
        s.spec.type = 'NodePort';
        s.spec.ports[0].nodePort = 70000;
      },
      expect: ['spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    },
    {
      name: 'cluster IP syntax',
      change: (s) => (s.spec.clusterIP = '10.43.0.300'),
      expect: ['spec.clusterIPs[0]: Invalid value: "10.43.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
    },
    {
      name: 'headless NodePort',
      change: (s) => {
        s.spec.type = 'NodePort';
        s.spec.clusterIP = 'None';
      },
      expect: ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
    },
    {
      name: 'selector label syntax',
      change: (s) => (s.spec.selector = { app: 'web!' }),
      expect: [
        `spec.selector: Invalid value: "web!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(createErrors(SERVICE, changed(service(), c.change)), c.expect));

  test('externalName required for ExternalName services', () => {
    assert.deepEqual(createErrors(SERVICE, { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName' } }), ['spec.externalName: Required value']);
  });
});

describe('service update', () => {
  test('an allocated cluster IP may not change', () => {
    const moved = changed(allocated(), (s) => {
      s.spec.clusterIP = '10.43.0.6';
      s.spec.clusterIPs = ['10.43.0.6'];
    });
    assert.deepEqual(updateErrors(SERVICE, moved, allocated()), ['spec.clusterIPs[0]: Invalid value: []string{"10.43.0.6"}: may not change once set']);
  });

  test('ports, selector and type may change', () => {
    const next = changed(allocated(), (s) => {
      s.spec.ports = [{ port: 8080 }];
      s.spec.selector = { app: 'web2' };
      s.spec.type = 'NodePort';
      s.spec.ports[0].nodePort = 30080;
    });
    assert.deepEqual(updateErrors(SERVICE, next, allocated()), []);
  });

  test('status: load balancer ingress only for LoadBalancer services', () => {
    const old = allocated();
    const now = changed(old, (s) => (s.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } }));
    assert.deepEqual(statusErrors(SERVICE, now, old), ["status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"]);
  });
});
