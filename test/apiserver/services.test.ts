// Service IP and node port allocation: from the configured ranges, honouring requested values,
// 422 with Kubernetes' messages on collisions, released on delete and never leaked.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const svc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

describe('Service allocation', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ serviceCidr: '10.96.0.0/24', nodePortRange: '31000-31009' });
  });
  after(async () => {
    await c.close();
  });
  const create = (body: unknown) => c.api('POST', '/api/v1/namespaces/default/services', { body });
  const reservations = () => c.controlPlane.apiServer.allocator.reservations();

  test('a ClusterIP comes from the service CIDR; the first address is the kubernetes Service’s', async () => {
    const res = await create(svc('plain', {}));
    assert.equal(res.status, 201);
    assert.match(res.body.spec.clusterIP, /^10\.96\.0\.\d+$/);
    assert.notEqual(res.body.spec.clusterIP, '10.96.0.1');
    assert.deepEqual(res.body.spec.clusterIPs, [res.body.spec.clusterIP]);
    const kubernetes = await c.api('GET', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(kubernetes.body.spec.clusterIP, '10.96.0.1');
  });

  test('a requested ClusterIP is honoured; a taken or out-of-range one is 422 with the Kubernetes message', async () => {
    const ok = await create(svc('fixed', { clusterIP: '10.96.0.10' }));
    assert.equal(ok.status, 201);
    assert.equal(ok.body.spec.clusterIP, '10.96.0.10');
    const taken = await create(svc('fixed-again', { clusterIP: '10.96.0.10' }));
    assert.equal(taken.status, 422);
    assert.match(taken.body.message, /spec\.clusterIPs: Invalid value: .*10\.96\.0\.10.*: failed to allocate IP 10\.96\.0\.10: provided IP is already allocated/);
    const outside = await create(svc('outside', { clusterIP: '10.0.0.1' }));
    assert.equal(outside.status, 422);
    assert.match(outside.body.message, /the provided IP \(10\.0\.0\.1\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/24/);
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/services/fixed-again')).status, 404);
  });

  test('headless Services get no IP; ExternalName Services neither', async () => {
    const headless = await create(svc('headless', { clusterIP: 'None' }));
    assert.equal(headless.status, 201);
    assert.equal(headless.body.spec.clusterIP, 'None');
    const external = await create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    assert.equal(external.status, 201);
    assert.equal(external.body.spec.clusterIP, undefined);
  });

  test('node ports come from the range; a requested one is honoured; collisions and out-of-range values are 422', async () => {
    const auto = await create(svc('np-auto', { type: 'NodePort' }));
    assert.equal(auto.status, 201);
    const port = auto.body.spec.ports[0].nodePort;
    assert.ok(port >= 31000 && port <= 31009, `node port ${port} in range`);
    const requested = await create(svc('np-fixed', { type: 'NodePort', ports: [{ port: 80, nodePort: 31005 === port ? 31006 : 31005 }] }));
    assert.equal(requested.status, 201);
    const clash = await create(svc('np-clash', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
    assert.equal(clash.status, 422);
    assert.match(clash.body.message, new RegExp(`spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${port}: provided port is already allocated`));
    const outside = await create(svc('np-outside', { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] }));
    assert.equal(outside.status, 422);
    assert.match(outside.body.message, /provided port is not in the valid range\. The range of valid ports is 31000-31009/);
  });

  test('delete releases the IP and node ports; failed creates reserve nothing; type changes release what is unused', async () => {
    const before = await reservations();
    const created = (await create(svc('released', { type: 'NodePort' }))).body;
    const during = await reservations();
    assert.ok(during.ips.includes(created.spec.clusterIP));
    assert.ok(during.nodePorts.includes(created.spec.ports[0].nodePort));
    // NodePort → ClusterIP frees the node port but keeps the IP.
    const demoted = await c.api('PATCH', '/api/v1/namespaces/default/services/released', {
      body: { spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 8080, nodePort: null }] } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
    assert.equal(demoted.body.spec.ports[0].nodePort, undefined);
    assert.equal(demoted.body.spec.clusterIP, created.spec.clusterIP);
    assert.ok(!(await reservations()).nodePorts.includes(created.spec.ports[0].nodePort));
    await c.api('DELETE', '/api/v1/namespaces/default/services/released');
    assert.deepEqual(await reservations(), before);
  });

  test('the clusterIP cannot change once set; an update that omits it keeps it', async () => {
    const created = (await create(svc('keep-ip', {}))).body;
    const replaced = structuredClone(created);
    delete replaced.spec.clusterIP;
    delete replaced.spec.clusterIPs;
    const put = await c.api('PUT', '/api/v1/namespaces/default/services/keep-ip', { body: replaced });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.spec.clusterIP, created.spec.clusterIP);
    const moved = structuredClone(put.body);
    moved.spec.clusterIP = '10.96.0.200';
    moved.spec.clusterIPs = ['10.96.0.200'];
    const refused = await c.api('PUT', '/api/v1/namespaces/default/services/keep-ip', { body: moved });
    assert.equal(refused.status, 422);
  });

  test('the range fills up: then a clear error, and nothing is half-created', async () => {
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await create(svc(`fill-${i}`, { type: 'NodePort' })));
    const failed = results.filter((r) => r.status !== 201);
    assert.ok(failed.length > 0, 'the 10-port range ran out');
    for (const f of failed) assert.match(f.body.message, /range is full/);
    const names = (await c.api('GET', '/api/v1/namespaces/default/services')).body.items.map((s: any) => s.metadata.name);
    assert.equal(names.filter((n: string) => n.startsWith('fill-')).length, results.length - failed.length);
  });
});
