// Read-modify-write from the watch cache's copy (Registry.guaranteedUpdate): a copy that lags the
// store must never win. The cache is stopped after it saw the object, so that its copy is stale
// for certain when the store moves on behind it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { storagePrefix } from '../../controlplane/apiserver/registry/codec.js';
import { eventually } from '../helpers/cluster.js';
import type { BareRegistry } from '../helpers/registry.js';
import { bareRegistry } from '../helpers/registry.js';

const configmaps = resourceFor('', 'configmaps');

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('updates that start from the watch cache', () => {
  let store: BareRegistry['store'];
  let cache: BareRegistry['cache'];
  let registry: BareRegistry['registry'];
  const key = `${storagePrefix(configmaps)}default/counter`;

  before(async () => {
    ({ store, cache, registry } = await bareRegistry(configmaps));
    await registry.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter' }, data: { n: '0' } });
    await eventually(() => cache.recent(key), 5_000, 'the cache to see the object');
    await cache.stop();
  });
  after(async () => {
    await store.close();
  });

  test('a stale copy fails the compare-and-swap and the update is redone on the stored object', async () => {
    const stale = cache.recent(key)!;
    // The store moves on behind the (stopped) cache.
    const stored = (await store.get(key))!;
    const moved = { ...(JSON.parse(stored.value) as ConfigMap), data: { n: '1', by: 'someone else' } };
    await store.update(key, JSON.stringify(moved), stored.modRevision);

    const seen: string[] = [];
    const result = (await registry.mutate('default', 'counter', (current) => {
      const cm = current as ConfigMap;
      seen.push(cm.data!['n']!);
      return { ...cm, data: { ...cm.data, n: String(Number(cm.data!['n']) + 1) } };
    })) as ConfigMap;
    assert.deepEqual(seen, ['0', '1'], 'first from the cached copy, then from the store');
    assert.deepEqual(result.data, { n: '2', by: 'someone else' }, "the other writer's change is kept");
    assert.equal(JSON.parse((await store.get(key))!.value).data.n, '2');
    assert.equal(cache.recent(key)!.object, stale.object, 'the cached copy itself is untouched');
  });

  test('an update that names the stale revision is a conflict, not a write', async () => {
    const stale = cache.recent(key)!;
    await assert.rejects(
      registry.update('default', 'counter', { ...(stale.object as ConfigMap), data: { n: 'lost' } }),
      (err: unknown) => err instanceof StatusError && err.code === 409,
    );
    assert.equal(JSON.parse((await store.get(key))!.value).data.n, '2');
  });

  test('an object deleted behind the cache is not found', async () => {
    const stored = (await store.get(key))!;
    await store.delete(key, stored.modRevision);
    await assert.rejects(
      registry.mutate('default', 'counter', (current) => current),
      (err: unknown) => err instanceof StatusError && err.code === 404,
    );
  });
});
