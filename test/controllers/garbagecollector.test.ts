// Garbage collection by ownerReferences: background (dependents follow their owner), foreground
// (the owner waits for its blocking dependents), orphan (dependents are let go), and objects
// whose owners vanished or never existed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isNotFound } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { garbageCollectorController } from '../../controlplane/controllers/garbagecollector/controller.js';
import { OwnershipGraph } from '../../controlplane/controllers/garbagecollector/graph.js';
import { eventually } from '../helpers/cluster.js';
import { startControlledCluster } from '../scheduler/controlled-cluster.js';
import type { ControlledCluster } from '../scheduler/controlled-cluster.js';

const configmaps = resourceFor('', 'configmaps');
const secrets = resourceFor('', 'secrets');

describe('ownership graph', () => {
  test('knows the dependents of every uid, and forgets links that go', () => {
    const graph = new OwnershipGraph();
    const ref = (uid: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid });
    graph.upsert(configmaps, { metadata: { uid: 'owner', name: 'owner', namespace: 'ns' } });
    graph.upsert(configmaps, { metadata: { uid: 'a', name: 'a', namespace: 'ns', ownerReferences: [ref('owner')] } });
    graph.upsert(configmaps, { metadata: { uid: 'b', name: 'b', namespace: 'ns', ownerReferences: [ref('owner'), ref('ghost')] } });
    assert.deepEqual(graph.dependentsOf('owner').map((n) => n.uid).sort(), ['a', 'b']);
    assert.deepEqual(graph.dependentsOf('ghost').map((n) => n.uid), ['b']);
    graph.upsert(configmaps, { metadata: { uid: 'b', name: 'b', namespace: 'ns', ownerReferences: [ref('ghost')] } });
    assert.deepEqual(graph.dependentsOf('owner').map((n) => n.uid), ['a']);
    graph.remove('a');
    assert.deepEqual(graph.dependentsOf('owner'), []);
  });
});

describe('garbage collector', () => {
  let t: ControlledCluster;
  before(async () => {
    t = await startControlledCluster([garbageCollectorController()]);
  });
  after(async () => {
    await t.close();
  });

  const cm = (name: string, owners: OwnerReference[] = [], finalizers?: string[]) =>
    t.client.create<KubeObject>(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ownerReferences: owners, finalizers } });
  const ownedBy = (owner: KubeObject, blockOwnerDeletion?: boolean): OwnerReference => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    blockOwnerDeletion,
  });
  const get = (name: string) => t.client.get(configmaps, 'default', name);
  const gone = (name: string, what = `${name} to be deleted`) =>
    eventually(async () => {
      try {
        await get(name);
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    }, 10_000, what);

  test('background: dependents go after their owner', async () => {
    const owner = await cm('bg-owner');
    await cm('bg-a', [ownedBy(owner)]);
    await t.client.create(secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bg-secret', ownerReferences: [ownedBy(owner)] } });
    await t.client.delete(configmaps, 'default', 'bg-owner');
    await gone('bg-a');
    await eventually(async () => t.client.get(secrets, 'default', 'bg-secret').then(() => undefined, (err: unknown) => (isNotFound(err) ? true : undefined)), 10_000, 'the secret to go');
  });

  test('foreground: the owner stays until its blocking dependents are gone', async () => {
    const owner = await cm('fg-owner');
    await cm('fg-blocker', [ownedBy(owner, true)], ['example.com/hold']);
    await cm('fg-other', [ownedBy(owner)]);
    await t.client.delete(configmaps, 'default', 'fg-owner', { propagationPolicy: 'Foreground' });
    const blocker = await eventually(async () => {
      const b = await get('fg-blocker');
      return b.metadata?.deletionTimestamp ? b : undefined;
    }, 10_000, 'the blocking dependent to be deleted');
    await gone('fg-other');
    const waiting = await get('fg-owner');
    assert.ok(waiting.metadata?.deletionTimestamp);
    assert.deepEqual(waiting.metadata?.finalizers, ['foregroundDeletion']);
    // The dependent's own finalizer holds it (and so the owner) until someone lets go.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await get('fg-owner'));
    await t.client.patch(configmaps, 'default', 'fg-blocker', { metadata: { finalizers: null, resourceVersion: blocker.metadata?.resourceVersion } });
    await gone('fg-blocker');
    await gone('fg-owner', 'the owner to go once its dependents are gone');
  });

  test('orphan: the owner goes, the dependents stay without the reference', async () => {
    const owner = await cm('or-owner');
    const other = await cm('or-other-owner');
    await cm('or-a', [ownedBy(owner)]);
    await cm('or-b', [ownedBy(owner), ownedBy(other)]);
    await t.client.delete(configmaps, 'default', 'or-owner', { propagationPolicy: 'Orphan' });
    await gone('or-owner');
    const a = await get('or-a');
    assert.equal(a.metadata?.ownerReferences, undefined);
    const b = await get('or-b');
    assert.deepEqual(b.metadata?.ownerReferences?.map((r) => r.name), ['or-other-owner']);
  });

  test('an object whose only owner never existed goes; one with a live owner only loses the dangling reference', async () => {
    const ghost: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' };
    await cm('orphaned', [ghost]);
    await gone('orphaned');
    const live = await cm('live-owner');
    await cm('half', [ownedBy(live), ghost]);
    await eventually(async () => ((await get('half')).metadata?.ownerReferences?.length === 1 ? true : undefined), 10_000, 'the dangling reference to go');
    // A reference to an owner of a kind Skiff does not serve is never taken as gone.
    await cm('foreign', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: '11111111-1111-1111-1111-111111111111' }]);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await get('foreign'));
  });
});
