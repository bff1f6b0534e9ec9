// Lists for readers that only render (Tables, selectors) reuse the objects that earlier lists
// decoded (WatchCache.decoded): they must be shared while current and never outlive a change.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { eventually } from '../helpers/cluster.js';
import type { BareRegistry } from '../helpers/registry.js';
import { bareRegistry } from '../helpers/registry.js';

const configmaps = resourceFor('', 'configmaps');

type ConfigMap = KubeObject & { data?: Record<string, string> };

function configMap(name: string, value: string): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { value } };
}

describe('lists that share decoded objects', () => {
  let store: BareRegistry['store'];
  let cache: BareRegistry['cache'];
  let registry: BareRegistry['registry'];

  before(async () => {
    ({ store, cache, registry } = await bareRegistry(configmaps));
  });

  after(async () => {
    await cache.stop();
    await store.close();
  });

  const caughtUp = () => eventually(async () => (cache.latestRevision === (await store.currentRevision()) ? true : undefined), 5_000, 'the cache to follow the store');
  const shared = async () => (await registry.list('default', { shared: true })).items as ConfigMap[];

  test('a second list returns the same objects; a plain list gets its own copies', async () => {
    await registry.create('default', configMap('a', '1'));
    await registry.create('default', configMap('b', '1'));
    await caughtUp();
    const first = await shared();
    const second = await shared();
    assert.equal(first.length, 2);
    assert.equal(second[0], first[0]);
    assert.equal(second[1], first[1]);
    const own = (await registry.list('default', {})).items;
    assert.notEqual(own[0], first[0]);
    assert.deepEqual(own[0], first[0]);
  });

  test('an update or a delete drops the shared object: the next list shows the change, nothing is kept for a gone key', async () => {
    const before = await shared();
    const a = before.find((c) => c.metadata?.name === 'a')!;
    await registry.update('default', 'a', { ...configMap('a', '2'), metadata: { ...a.metadata } });
    await registry.delete('default', 'b', {});
    await caughtUp();
    const after = await shared();
    assert.deepEqual(
      after.map((c) => [c.metadata?.name, c.data?.value]),
      [['a', '2']],
    );
    assert.equal(a.data?.value, '1', 'the object an earlier reader holds is not changed');
    assert.equal(cache.decodedCount, 1);
  });

  test('objects read at a revision the cache has already passed are decoded but not kept', async () => {
    const { resourceVersion } = await registry.list('default', { shared: true });
    await registry.update('default', 'a', { ...configMap('a', '3'), metadata: { name: 'a', namespace: 'default' } });
    await caughtUp();
    const countBefore = cache.decodedCount;
    const old = await registry.list('default', { shared: true, resourceVersion, resourceVersionMatch: 'Exact' });
    assert.equal((old.items[0] as ConfigMap).data?.value, '2');
    assert.equal(cache.decodedCount, countBefore);
    const now = await shared();
    assert.equal(now[0]!.data?.value, '3');
  });
});
