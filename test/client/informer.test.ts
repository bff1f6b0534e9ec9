// The REST client and the informer against a real API server.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient, isNotFound } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { Informer } from '../../api/informer.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const configmaps = resourceFor('', 'configmaps');
const pods = resourceFor('', 'pods');

describe('KubeClient and Informer', () => {
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

  test('CRUD through the client, errors as StatusError', async () => {
    const created = await client.create<KubeObject>(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cl' }, data: { a: '1' } });
    assert.ok(created.metadata?.uid);
    const got = await client.get(configmaps, 'default', 'cl');
    assert.equal((got as any).data.a, '1');
    const patched = await client.patch(configmaps, 'default', 'cl', { data: { a: '2' } });
    assert.equal((patched as any).data.a, '2');
    await assert.rejects(client.update(configmaps, 'default', created), (err: unknown) => err instanceof StatusError && err.code === 409);
    await client.delete(configmaps, 'default', 'cl');
    await assert.rejects(client.get(configmaps, 'default', 'cl'), isNotFound);
  });

  test('the informer lists, follows watch events and keeps an index', async () => {
    const abort = new AbortController();
    const seen: string[] = [];
    const informer = new Informer<KubeObject>(client, pods, { namespace: 'default' })
      .addIndex('node', (p) => [String((p['spec'] as any)?.nodeName ?? '')])
      .on({
        add: (p) => seen.push(`add:${p.metadata?.name}`),
        update: (_o, p) => seen.push(`update:${p.metadata?.name}`),
        delete: (p) => seen.push(`delete:${p.metadata?.name}`),
      });
    const pod = (name: string, nodeName: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
    });
    await client.create(pods, 'default', pod('before', 'n1'));
    await informer.start(abort.signal);
    assert.deepEqual(seen, ['add:before']);
    await client.create(pods, 'default', pod('after', 'n2'));
    await client.patch(pods, 'default', 'before', { metadata: { labels: { x: 'y' } } });
    await client.delete(pods, 'default', 'after', { gracePeriodSeconds: 0 });
    await eventually(() => (seen.length >= 4 ? true : undefined), 5000, 'informer events');
    assert.deepEqual(seen, ['add:before', 'add:after', 'update:before', 'delete:after']);
    assert.deepEqual(informer.byIndex('node', 'n1').map((p) => p.metadata?.name), ['before']);
    assert.deepEqual(informer.byIndex('node', 'n2'), []);
    abort.abort();
    await informer.stopped();
  });
});

describe('Informer, first list of a large cluster', () => {
  test('its handlers let timers run before the cache is synced, and the cache ends complete', async () => {
    const count = 2000;
    const items = Array.from({ length: count }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default', resourceVersion: String(i + 1) } }));
    // A client that lists `items` and then watches quietly until stopped.
    const fake = {
      listAll: async () => ({ items, metadata: { resourceVersion: String(count) } }),
      async *watch(_r: unknown, _n: unknown, options: { signal: AbortSignal }) {
        if (!options.signal.aborted) await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
        yield* []; // no events
      },
    } as unknown as KubeClient;
    const informer = new Informer<KubeObject>(fake, configmaps);
    let added = 0;
    // Some work per object (≥ 50 µs), as the scheduler's and the garbage collector's handlers do.
    informer.on({ add: () => {
      for (const until = performance.now() + 0.05; performance.now() < until; );
      added++;
    } });
    let seenByTimer: { synced: boolean; added: number } | undefined;
    setTimeout(() => (seenByTimer = { synced: informer.hasSynced, added }), 0);
    const stop = new AbortController();
    await informer.start(stop.signal);
    assert.ok(seenByTimer, 'the timer never ran');
    assert.equal(seenByTimer.synced, false, 'the timer ran only once the whole list was handled');
    assert.ok(seenByTimer.added < count);
    assert.equal(added, count);
    assert.equal(informer.list().length, count);
    stop.abort();
    await informer.stopped();
  });
});
