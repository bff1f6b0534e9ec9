// Writes fenced by a leader Lease: they commit only while the Lease names the writer. Every
// kind of write a controller-manager makes is fenced: create, update, patch and delete, the
// status subresource, pods/binding (the scheduler) and pods/eviction.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isFencedOut, KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { podsResource, setPodStatus } from '../controllers/workload-harness.js';

const leases = resourceFor('coordination.k8s.io', 'leases');
const configmaps = resourceFor('', 'configmaps');
const pdbs = resourceFor('policy', 'poddisruptionbudgets');

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

  /** A Lease in kube-system held by server-a, and clients whose writes it fences as server-a and server-b. */
  async function fencedWriters(name: string): Promise<{ lease: KubeObject; a: KubeClient; b: KubeClient }> {
    const lease = await client.create<KubeObject>(leases, 'kube-system', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name },
      spec: { holderIdentity: 'server-a', leaseDurationSeconds: 15 },
    });
    const fence = { namespace: 'kube-system', name };
    return { lease, a: client.fenced(fence, 'server-a'), b: client.fenced(fence, 'server-b') };
  }

  test('a fenced write succeeds for the holder and fails with 409 once another holder took the lease', async () => {
    const { lease, a, b } = await fencedWriters('fence-test');
    await a.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-a' } });
    await assert.rejects(
      b.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-b' } }),
      (err: unknown) => err instanceof StatusError && err.code === 409,
    );
    // Renewals by the holder do not disturb its writes.
    await client.patch(leases, 'kube-system', 'fence-test', { spec: { renewTime: new Date().toISOString().replace('Z', '000Z') } });
    const stale = await a.patch(configmaps, 'default', 'by-a', { data: { x: '1' } });
    // The holder's own stale write is a plain conflict on the object, not a fenced-out writer.
    const staleWrite = a.update(configmaps, 'default', { ...stale, metadata: { ...stale.metadata, resourceVersion: '1' } });
    await assert.rejects(staleWrite, (err: unknown) => err instanceof StatusError && err.code === 409 && !isFencedOut(err));
    // Leadership moves to b: a's update, delete and create all fail; nothing changes.
    await client.patch(leases, 'kube-system', 'fence-test', { spec: { holderIdentity: 'server-b' } });
    const conflict = (err: unknown) => isFencedOut(err) && /held by "server-b"/.test((err as StatusError).message);
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

  test('binding, status writes, eviction and update are fenced: the holder writes, a deposed writer gets 409 and changes nothing', async () => {
    const { a, b } = await fencedWriters('fence-subresources');
    const pod = (name: string, app = name): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    });
    const bind = (writer: KubeClient, name: string) =>
      writer.request('POST', `/api/v1/namespaces/default/pods/${name}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } },
      });
    const evict = (writer: KubeClient, name: string) =>
      writer.request('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } },
      });
    const gone = async (name: string) => {
      await assert.rejects(client.get(podsResource, 'default', name), (err: unknown) => err instanceof StatusError && err.code === 404);
    };
    const nodeName = async (name: string) => ((await client.get(podsResource, 'default', name))['spec'] as { nodeName?: string }).nodeName;
    // Not on a node, so that an eviction deletes them at once. A budget that allows one
    // disruption covers the 'guarded' pods: evicting a ready one also writes the budget's status;
    // an unready one it lets go without taking a disruption.
    for (const name of ['bound', 'evicted', 'unbound', 'stays', 'guarded-1', 'guarded-2', 'guarded-unready']) {
      await client.create(podsResource, 'default', pod(name, name.startsWith('guarded') ? 'guarded' : name));
    }
    await setPodStatus(client, 'default', 'stays');
    await setPodStatus(client, 'default', 'guarded-1');
    await setPodStatus(client, 'default', 'guarded-2');
    await setPodStatus(client, 'default', 'guarded-unready', { ready: false });
    const budget = await client.create<KubeObject>(pdbs, 'default', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'guarded' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
    });
    const budgetStatus = { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, observedGeneration: budget.metadata?.generation };
    await client.updateStatus(pdbs, 'default', { ...budget, status: budgetStatus });
    await client.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'updated' }, data: { x: '1' } });

    // The holder binds, writes status (PUT and PATCH), evicts and updates.
    await bind(a, 'bound');
    assert.equal(await nodeName('bound'), 'node-1');
    await setPodStatus(a, 'default', 'bound');
    await a.patch(podsResource, 'default', 'bound', { status: { message: 'by a' } }, 'merge', { subresource: 'status' });
    const bound = (await client.get(podsResource, 'default', 'bound'))['status'] as { phase?: string; message?: string };
    assert.deepEqual([bound.phase, bound.message], ['Running', 'by a']);
    await evict(a, 'evicted');
    await gone('evicted');
    const cm = await client.get(configmaps, 'default', 'updated');
    await a.update(configmaps, 'default', { ...cm, data: { x: '2' } });
    assert.deepEqual((await client.get(configmaps, 'default', 'updated'))['data'], { x: '2' });

    // Leadership moves to b: each of a's writes fails with 409 and leaves every object as it was.
    await client.patch(leases, 'kube-system', 'fence-subresources', { spec: { holderIdentity: 'server-b' } });
    const conflict = (err: unknown) => isFencedOut(err) && /held by "server-b"/.test((err as StatusError).message);
    const versions = async () => ({
      bound: (await client.get(podsResource, 'default', 'bound')).metadata?.resourceVersion,
      unbound: (await client.get(podsResource, 'default', 'unbound')).metadata?.resourceVersion,
      stays: (await client.get(podsResource, 'default', 'stays')).metadata?.resourceVersion,
      guarded: (await client.get(podsResource, 'default', 'guarded-1')).metadata?.resourceVersion,
      unready: (await client.get(podsResource, 'default', 'guarded-unready')).metadata?.resourceVersion,
      budget: (await client.get(pdbs, 'default', 'guarded')).metadata?.resourceVersion,
      updated: (await client.get(configmaps, 'default', 'updated')).metadata?.resourceVersion,
    });
    const before = await versions();
    await assert.rejects(bind(a, 'unbound'), conflict);
    await assert.rejects(setPodStatus(a, 'default', 'bound', { phase: 'Failed' }), conflict);
    await assert.rejects(a.patch(podsResource, 'default', 'bound', { status: { message: 'late' } }, 'merge', { subresource: 'status' }), conflict);
    await assert.rejects(evict(a, 'stays'), conflict);
    await assert.rejects(evict(a, 'guarded-1'), conflict);
    await assert.rejects(evict(a, 'guarded-unready'), conflict);
    const stale = await client.get(configmaps, 'default', 'updated');
    await assert.rejects(a.update(configmaps, 'default', { ...stale, data: { x: '3' } }), conflict);
    assert.deepEqual(await versions(), before);
    assert.deepEqual((await client.get(configmaps, 'default', 'updated'))['data'], { x: '2' });
    assert.equal(await nodeName('unbound'), undefined);
    assert.equal(((await client.get(pdbs, 'default', 'guarded'))['status'] as { disruptionsAllowed: number }).disruptionsAllowed, 1);

    // The new holder's writes to the same objects commit.
    await bind(b, 'unbound');
    assert.equal(await nodeName('unbound'), 'node-1');
    await evict(b, 'stays');
    await gone('stays');
    await evict(b, 'guarded-1');
    await gone('guarded-1');
    assert.equal(((await client.get(pdbs, 'default', 'guarded'))['status'] as { disruptionsAllowed: number }).disruptionsAllowed, 0);
  });
});
