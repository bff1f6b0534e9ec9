// The agent's reads of ConfigMaps, Secrets and Services: cached briefly, shared while under way,
// and (Services only) answered from the last list when the API cannot be reached.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { ReferencedObjects } from '../../agent/pods/referenced-objects.js';

function fakeClient() {
  const calls: string[] = [];
  let failure: Error | undefined;
  const client = {
    async get(r: { plural: string }, ns: string, name: string) {
      calls.push(`get ${r.plural}/${ns}/${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failure) throw failure;
      if (name === 'missing') throw new StatusError(404, 'NotFound', `${r.plural} "missing" not found`);
      return { metadata: { name }, data: { k: 'v' } };
    },
    async list(r: { plural: string }, ns: string) {
      calls.push(`list ${r.plural}/${ns}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failure) throw failure;
      return { items: [{ metadata: { name: 'svc', namespace: ns } }] };
    },
  };
  return { client: client as unknown as KubeClient, calls, fail: (err: Error | undefined) => (failure = err) };
}

describe('referenced objects', () => {
  test('reads under way are shared; answers are cached for the TTL; missing objects are answers', async () => {
    const { client, calls } = fakeClient();
    const objects = new ReferencedObjects(client, 60_000);
    const [a, b] = await Promise.all([objects.configMap('ns', 'cfg'), objects.configMap('ns', 'cfg')]);
    assert.equal(a, b);
    await objects.configMap('ns', 'cfg');
    assert.equal(await objects.secret('ns', 'missing'), undefined);
    assert.equal(await objects.secret('ns', 'missing'), undefined);
    assert.deepEqual(calls, ['get configmaps/ns/cfg', 'get secrets/ns/missing']);
  });

  test('an API outage: Services answer from the last list, ConfigMaps fail', async () => {
    const { client, calls, fail } = fakeClient();
    const objects = new ReferencedObjects(client, 0);
    const first = await objects.services('ns');
    await objects.configMap('ns', 'cfg');
    fail(new Error('connect ECONNREFUSED'));
    assert.deepEqual(await objects.services('ns'), first);
    await assert.rejects(objects.configMap('ns', 'cfg'), /ECONNREFUSED/);
    fail(new StatusError(403, 'Forbidden', 'no'));
    await assert.rejects(objects.services('ns'), (err: unknown) => err instanceof StatusError && err.code === 403);
    assert.equal(calls.filter((c) => c.startsWith('list')).length, 3);
  });
});
