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
