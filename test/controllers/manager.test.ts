// The controller-manager runtime: controllers run only while leading, with their own event
// component; a failing controller ends the term and everything restarts; two schedulers in two
// managers never bind a pod twice, even across a change of leader.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { pino } from 'pino';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { Controller } from '../../controlplane/controllers/context.js';
import { eventComponent, startControllerManager } from '../../controlplane/controllers/manager.js';
import type { ControllerManager } from '../../controlplane/controllers/manager.js';
import { schedulerController } from '../../controlplane/scheduler/scheduler.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { adminClient, TEST_ELECTION } from '../scheduler/controlled-cluster.js';
import { HollowNodes } from '../scheduler/hollow-nodes.js';

const pods = resourceFor('', 'pods');
const events = resourceFor('', 'events');
const configmaps = resourceFor('', 'configmaps');
const leases = resourceFor('coordination.k8s.io', 'leases');
const silent = pino({ level: 'silent' });
type PodObject = Pod & KubeObject;

describe('controller manager', () => {
  let c: TestCluster;
  let client: KubeClient;
  before(async () => {
    c = await startTestCluster();
    client = adminClient(c);
  });
  after(async () => {
    await client.close();
    await c.close();
  });

  test('skiff server runs its controller-manager in a worker thread that schedules, and stops releasing the Lease', async () => {
    const server = await startTestCluster({ controllerManager: { election: TEST_ELECTION } });
    const serverClient = adminClient(server);
    const nodes = new HollowNodes(serverClient);
    try {
      await server.controlPlane.controllerManager!.whenLeading();
      assert.equal(server.controlPlane.controllerManager!.isLeader(), true);
      await nodes.add('worker-node');
      await serverClient.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'threaded' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await eventually(async () => (await serverClient.get<PodObject>(pods, 'default', 'threaded')).spec?.nodeName, 10_000, 'the pod to be bound');
      const lease = await serverClient.get<KubeObject & { spec?: { holderIdentity?: string } }>(leases, 'kube-system', 'skiff-controller-manager');
      assert.equal(lease.spec?.holderIdentity, server.controlPlane.controllerManager!.identity);
      await server.controlPlane.controllerManager!.stop();
      assert.equal(server.controlPlane.controllerManager!.isLeader(), false);
      const released = await serverClient.get<KubeObject & { spec?: { holderIdentity?: string } }>(leases, 'kube-system', 'skiff-controller-manager');
      assert.equal(released.spec?.holderIdentity ?? '', '');
    } finally {
      nodes.close();
      await serverClient.close();
      await server.close();
    }
  });

  test('event components follow Kubernetes names', () => {
    assert.equal(eventComponent({ name: 'replicaset', run: async () => {} }), 'replicaset-controller');
    assert.equal(eventComponent({ name: 'scheduler', component: 'default-scheduler', run: async () => {} }), 'default-scheduler');
  });

  test('a failing controller ends the term; every controller restarts with fresh informers', async () => {
    let failures = 0;
    const runs: string[] = [];
    const flaky: Controller = {
      name: 'flaky',
      run: async (ctx, signal) => {
        ctx.informers.informer(configmaps);
        await ctx.informers.waitForSync(signal);
        runs.push('flaky');
        if (failures++ === 0) throw new Error('first run fails');
        ctx.recorder.event({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root', namespace: 'default', uid: 'x' } }, 'Normal', 'Hello', 'from flaky');
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    };
    const steady: Controller = {
      name: 'steady',
      run: async (_ctx, signal) => {
        runs.push('steady');
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    };
    const m = startControllerManager({ client, controllers: [flaky, steady], logger: silent, identity: 'restarting', election: TEST_ELECTION });
    try {
      await eventually(() => (runs.filter((r) => r === 'flaky').length === 2 && m.isLeader() ? true : undefined), 10_000, 'a second term');
      assert.deepEqual(runs.filter((r) => r === 'steady').length, 2);
      const event = await eventually(async () => (await client.list(events, 'default', { fieldSelector: 'reason=Hello' })).items[0], 5000, 'the event');
      assert.equal((event['source'] as { component: string }).component, 'flaky-controller');
    } finally {
      await m.stop();
    }
    assert.equal(m.isLeader(), false);
  });

  test('two schedulers never bind a pod twice, also when the leader changes mid-way', async () => {
    const nodes = new HollowNodes(client);
    const managers: ControllerManager[] = [];
    const bindings = new Map<string, string[]>();
    const watching = new AbortController();
    const watch = (async () => {
      try {
        for await (const ev of client.watch<PodObject>(pods, 'default', { signal: watching.signal, resourceVersion: '0' })) {
          const name = ev.object.metadata?.name ?? '';
          const node = (ev.object as PodObject).spec?.nodeName;
          const seen = bindings.get(name) ?? [];
          if (node && seen[seen.length - 1] !== node) seen.push(node);
          bindings.set(name, seen);
        }
      } catch {
        // aborted
      }
    })();
    try {
      for (const n of ['n1', 'n2', 'n3']) await nodes.add(n);
      for (const id of ['sched-a', 'sched-b']) {
        managers.push(startControllerManager({ client, controllers: [schedulerController()], logger: silent, identity: id, election: TEST_ELECTION }));
      }
      await Promise.race(managers.map((m) => m.whenLeading()));
      const create = (i: number) =>
        client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}` }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await Promise.all(Array.from({ length: 30 }, (_, i) => create(i)));
      // Stop the leader while it is binding: the other takes over and finishes.
      const leader = await eventually(() => managers.find((m) => m.isLeader()), 10_000, 'a leader');
      await leader.stop();
      await Promise.all(Array.from({ length: 30 }, (_, i) => create(30 + i)));
      await eventually(async () => {
        const list = await client.list<PodObject>(pods, 'default');
        return list.items.length === 60 && list.items.every((p) => p.spec?.nodeName) ? true : undefined;
      }, 15_000, 'all 60 pods bound');
      // The test's own watch may still be delivering the last bindings.
      await eventually(() => (bindings.size === 60 && [...bindings.values()].every((seen) => seen.length > 0) ? true : undefined), 10_000, 'every binding on the watch');
      for (const [name, seen] of bindings) assert.equal(seen.length, 1, `${name} bound to ${seen.join(', ')}`);
    } finally {
      watching.abort();
      await watch;
      await Promise.all(managers.map((m) => m.stop()));
      nodes.close();
    }
  });
});
