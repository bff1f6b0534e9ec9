// The API server as a process: every acknowledged write survives kill -9, resourceVersions do not
// change across the restart, and a watch resumed from a saved version sees every later event
// exactly once. Also: concurrent writers never lose an update, and history gets compacted.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import { runSkiffServer } from '../helpers/skiff-process.js';

const configmaps = resourceFor('', 'configmaps');

describe('durability and concurrency', () => {
  test('kill -9 after N acknowledged creates: all N are back with unchanged resourceVersions; a resumed watch sees each later event once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skiff-durable-'));
    try {
      const first = await runSkiffServer(dataDir);
      const client1 = new KubeClient({ server: first.url, token: first.token, caPem: first.caPem });
      const acknowledged = new Map<string, string>();
      // Eight writers in parallel, then kill -9 while a second wave is in flight.
      const wave = async (prefix: string, n: number) => {
        for (let i = 0; i < n; i++) {
          const created = await client1.create<KubeObject>(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${i}` }, data: { i: String(i) } });
          acknowledged.set(created.metadata!.name!, created.metadata!.resourceVersion!);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => wave(`w${w}`, 25)));
      const saved = [...acknowledged.values()].map(Number).reduce((a, b) => Math.max(a, b));
      const inFlight = Promise.all(Array.from({ length: 8 }, (_, w) => wave(`late${w}`, 1000).catch(() => undefined)));
      await eventually(() => (acknowledged.size >= 300 ? true : undefined), 20_000, 'more writes');
      await first.kill9();
      await inFlight;
      await client1.close();

      const second = await runSkiffServer(dataDir);
      const client2 = new KubeClient({ server: second.url, token: second.token, caPem: second.caPem });
      try {
        const list = await client2.listAll(configmaps, 'default');
        const stored = new Map(list.items.map((cm) => [cm.metadata!.name!, cm.metadata!.resourceVersion!]));
        for (const [name, rv] of acknowledged) assert.equal(stored.get(name), rv, `${name} kept resourceVersion ${rv}`);

        // Resume a watch from the saved revision: every later create exactly once, in order.
        const abort = new AbortController();
        const seen: string[] = [];
        const expected = list.items.filter((cm) => Number(cm.metadata!.resourceVersion) > saved).map((cm) => cm.metadata!.name!);
        for await (const ev of client2.watch(configmaps, 'default', { resourceVersion: String(saved), signal: abort.signal })) {
          if (ev.type === 'ADDED') seen.push(ev.object.metadata!.name!);
          if (seen.length >= expected.length) break;
        }
        abort.abort();
        assert.deepEqual(seen.sort(), [...expected].sort());
        assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      } finally {
        await client2.close();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('eight concurrent read-modify-write writers: stale updates get 409 and no update is lost', async () => {
    const c = await startTestCluster();
    const client = new KubeClient({ server: c.url, token: c.controlPlane.adminToken, caPem: c.controlPlane.caCertPem });
    try {
      await client.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter' }, data: { n: '0' } });
      let conflicts = 0;
      const writer = async () => {
        for (let done = 0; done < 25; ) {
          const current = await client.get<KubeObject & { data: { n: string } }>(configmaps, 'default', 'counter');
          current.data.n = String(Number(current.data.n) + 1);
          try {
            await client.update(configmaps, 'default', current);
            done++;
          } catch (err) {
            if (err instanceof StatusError && err.code === 409) conflicts++;
            else throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, writer));
      const final = await client.get<KubeObject & { data: { n: string } }>(configmaps, 'default', 'counter');
      assert.equal(final.data.n, '200');
      assert.ok(conflicts > 0, 'writers did collide');
    } finally {
      await client.close();
      await c.close();
    }
  });

  test('history is compacted periodically, keeping at least one interval', async () => {
    const c = await startTestCluster({ compactionIntervalMs: 200 });
    try {
      await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } } });
      const compacted = await eventually(async () => {
        const rev = await c.controlPlane.store.compactedRevision();
        return rev > 0 ? rev : undefined;
      }, 5000, 'a compaction');
      assert.ok(compacted <= (await c.controlPlane.store.currentRevision()));
    } finally {
      await c.close();
    }
  });

  test('/metrics exposes request counts by verb, resource and code, watch counts and store latency', async () => {
    const c = await startTestCluster();
    try {
      await c.api('GET', '/api/v1/namespaces/default/configmaps');
      await c.api('GET', '/api/v1/namespaces/default/configmaps/missing');
      const res = await c.api('GET', '/metrics');
      assert.equal(res.status, 200);
      assert.match(res.text, /skiff_apiserver_requests_total\{verb="list",resource="configmaps",code="200"\} \d+/);
      assert.match(res.text, /skiff_apiserver_requests_total\{verb="get",resource="configmaps",code="404"\} 1/);
      assert.match(res.text, /skiff_apiserver_request_duration_seconds_bucket\{le="[^"]+",verb="list",resource="configmaps"\}/);
      assert.match(res.text, /skiff_apiserver_store_operation_duration_seconds_count\{operation="list"\} \d+/);
      assert.match(res.text, /# TYPE skiff_apiserver_watchers gauge/);
      const unauthenticated = await c.api('GET', '/metrics', { token: null });
      assert.equal(unauthenticated.status, 401);
    } finally {
      await c.close();
    }
  });
});
