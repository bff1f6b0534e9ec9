// The event recorder writes Events kubectl describe shows, folding repeats into one.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../api/client.js';
import { EventRecorder } from '../../api/events.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

describe('EventRecorder', () => {
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

  test('repeated events are counted on one Event; describe shows them', async () => {
    const pod = await client.create<KubeObject>(resourceFor('', 'pods'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'evented' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    const node = await client.create<KubeObject>(resourceFor('', 'nodes'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ev-node' } });
    const errors: unknown[] = [];
    const recorder = new EventRecorder(client, { component: 'test', host: 'h1' }, { onError: (e) => errors.push(e) });
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.event(pod, 'Normal', 'Pulled', 'Container image "x" already present on machine');
    recorder.event(node, 'Normal', 'NodeReady', 'Node ev-node status is now: NodeReady');
    await recorder.flush();
    assert.deepEqual(errors, []);
    const list = await client.list(resourceFor('', 'events'), 'default', { fieldSelector: 'involvedObject.name=evented' });
    const byReason = new Map(list.items.map((e: any) => [e.reason, e]));
    assert.equal(byReason.get('BackOff').count, 2);
    assert.equal(byReason.get('Pulled').count, 1);
    const nodeEvents = await client.list(resourceFor('', 'events'), 'default', { fieldSelector: 'involvedObject.kind=Node' });
    assert.equal(nodeEvents.items.length, 1);
    const out = await c.kubectl(['describe', 'pod', 'evented']);
    assert.match(out.stdout, /Warning\s+BackOff\s+\S+\s+\(x2 over \S+\)\s+test\s+Back-off restarting failed container/);
  });

  test('events that pile up are dropped, counted and reported once per window', async () => {
    // An API server that takes 200 ms to refuse each write: the recorder's queue fills.
    const slow = createServer((_req, res) => {
      setTimeout(() => res.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":503}'), 200);
    });
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const slowClient = new KubeClient({ server: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` });
    const reports: number[] = [];
    const recorder = new EventRecorder(slowClient, { component: 'test' }, { maxPending: 2, dropReportMs: 100, onDropped: (n) => reports.push(n), onError: () => {} });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
    try {
      for (let i = 0; i < 10; i++) recorder.event(pod, 'Normal', 'Flood', `event ${i}`);
      assert.equal(recorder.dropped, 8, 'two wait to be written, eight are dropped');
      assert.deepEqual(reports, [], 'reported after the window, not per event');
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(reports, [8]);
      await recorder.flush();
      for (let i = 0; i < 5; i++) recorder.event(pod, 'Normal', 'Flood', `more ${i}`);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(reports, [8, 3], 'a later flood is a report of its own');
      assert.equal(recorder.dropped, 11);
      await recorder.flush();
    } finally {
      await slowClient.close();
      slow.close();
    }
  });
});
