// Writes fenced by a leader Lease: they commit only while the Lease names the writer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const leases = resourceFor('coordination.k8s.io', 'leases');
const configmaps = resourceFor('', 'configmaps');

describe('leader fencing', () => {
  let c: TestCluster;
  let client: KubeClient;
  before(async () => {
    c = await startTestCluster();
    client = new KubeClient({ server: c.url, token: c.controlPlane.adminToken, caPem: c.controlPlane.caCertPem });
  });
  after(async () => {
    await client.close();
    await c.close();
  });

  test('a fenced write succeeds for the holder and fails with 409 once another holder took the lease', async () => {
    const lease = await client.create<KubeObject>(leases, 'kube-system', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'fence-test' },
      spec: { holderIdentity: 'server-a', leaseDurationSeconds: 15 },
    });
    const a = client.fenced({ namespace: 'kube-system', name: 'fence-test' }, 'server-a');
    const b = client.fenced({ namespace: 'kube-system', name: 'fence-test' }, 'server-b');
    await a.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-a' } });
    await assert.rejects(
      b.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-b' } }),
      (err: unknown) => err instanceof StatusError && err.code === 409,
    );
    // Renewals by the holder do not disturb its writes.
    await client.patch(leases, 'kube-system', 'fence-test', { spec: { renewTime: new Date().toISOString().replace('Z', '000Z') } });
    await a.patch(configmaps, 'default', 'by-a', { data: { x: '1' } });
    // Leadership moves to b: a's update, delete and create all fail; nothing changes.
    await client.patch(leases, 'kube-system', 'fence-test', { spec: { holderIdentity: 'server-b' } });
    const conflict = (err: unknown) => err instanceof StatusError && err.code === 409 && /held by "server-b"/.test(err.message);
    await assert.rejects(a.patch(configmaps, 'default', 'by-a', { data: { x: '2' } }), conflict);
    await assert.rejects(a.delete(configmaps, 'default', 'by-a'), conflict);
    await assert.rejects(a.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }), conflict);
    const live = await client.get(configmaps, 'default', 'by-a');
    assert.equal((live as any).data.x, '1');
    await b.delete(configmaps, 'default', 'by-a');
    // And back to a: the server last saw b hold the lease, yet a's first write commits (a
    // remembered holder never refuses a write by itself; the store decides).
    await client.patch(leases, 'kube-system', 'fence-test', { spec: { holderIdentity: 'server-a' } });
    await a.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-a-again' } });
    await assert.rejects(b.delete(configmaps, 'default', 'by-a-again'), (err: unknown) => err instanceof StatusError && err.code === 409);
    await a.delete(configmaps, 'default', 'by-a-again');
    assert.ok(lease.metadata?.uid);
  });
});
