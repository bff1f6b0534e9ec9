// The ReplicaSet controller against a real API server: pods follow spec.replicas, orphans are
// adopted and non-matching pods released, scale-down removes the cheapest pods first, status
// counts ready and available pods, and a lagging pod informer never leads to extra pods.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { ReplicaSetController } from '../../controlplane/controllers/replicaset/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { LaggingClient, adminClient, bindPod, createNode, listPods, podsResource, setPodStatus, sleep, startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const replicasets = resourceFor('apps', 'replicasets');
const events = resourceFor('', 'events');

function replicaSet(name: string, replicas: number, extra: { minReadySeconds?: number; app?: string } = {}): KubeObject {
  const app = extra.app ?? name;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      minReadySeconds: extra.minReadySeconds ?? 0,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app, tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

function active(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes((p['status'] as any)?.phase));
}

async function status(client: KubeClient, name: string): Promise<any> {
  return (await client.get(replicasets, 'default', name))['status'] ?? {};
}

describe('ReplicaSet controller', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;
  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new ReplicaSetController()]);
    client = run.client;
    await createNode(client, 'node-a');
  });
  after(async () => {
    await run.stop();
    await c.close();
  });

  test('creates pods named <rs>-<5 chars> with the template and a controller reference', async () => {
    const rs = await client.create(replicasets, 'default', replicaSet('web', 3));
    const pods = await eventually(async () => {
      const items = await listPods(client, 'default', 'app=web');
      return items.length === 3 ? items : undefined;
    }, 10_000, '3 pods');
    for (const pod of pods) {
      assert.match(pod.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.metadata!.labels!['tier'], 'web');
      assert.deepEqual(pod.metadata!.ownerReferences, [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const st = await eventually(async () => {
      const s = await status(client, 'web');
      return s.replicas === 3 && s.observedGeneration === 1 ? s : undefined;
    }, 10_000, 'status.replicas=3');
    assert.equal(st.fullyLabeledReplicas, 3);
    assert.equal(st.readyReplicas ?? 0, 0);
    const created = await eventually(async () => {
      const list = (await client.list(events, 'default', { fieldSelector: 'involvedObject.name=web,reason=SuccessfulCreate' })).items;
      return list.length === 3 ? list : undefined;
    }, 10_000, 'SuccessfulCreate events');
    assert.match(String(created[0]!['message']), /^Created pod: web-/);
  });

  test('status counts ready pods, and available ones only after minReadySeconds', async () => {
    // Ready's lastTransitionTime is in whole seconds: 5 s leaves at least 4 s to see the pods
    // ready but not yet available on a loaded machine.
    await client.create(replicasets, 'default', replicaSet('slow', 2, { minReadySeconds: 5 }));
    const pods = await eventually(async () => {
      const items = await listPods(client, 'default', 'app=slow');
      return items.length === 2 ? items : undefined;
    }, 10_000, '2 pods');
    for (const pod of pods) {
      await bindPod(client, 'default', pod.metadata!.name!, 'node-a');
      await setPodStatus(client, 'default', pod.metadata!.name!, { ready: true });
    }
    await eventually(async () => {
      const s = await status(client, 'slow');
      return s.readyReplicas === 2 && (s.availableReplicas ?? 0) === 0 ? s : undefined;
    }, 5_000, 'ready but not yet available');
    await eventually(async () => ((await status(client, 'slow')).availableReplicas === 2 ? true : undefined), 12_000, 'available after minReadySeconds');
  });

  test('scales down by deleting unscheduled, then not-ready pods, keeping the ready one', async () => {
    await client.create(replicasets, 'default', replicaSet('shrink', 3));
    const pods = await eventually(async () => {
      const items = await listPods(client, 'default', 'app=shrink');
      return items.length === 3 ? items : undefined;
    }, 10_000, '3 pods');
    const [ready, notReady, unscheduled] = pods.map((p) => p.metadata!.name!) as [string, string, string];
    await bindPod(client, 'default', ready, 'node-a');
    await setPodStatus(client, 'default', ready, { ready: true });
    await bindPod(client, 'default', notReady, 'node-a');
    await setPodStatus(client, 'default', notReady, { ready: false });
    await eventually(async () => ((await status(client, 'shrink')).readyReplicas === 1 ? true : undefined), 5_000, 'one ready');
    await client.patch(replicasets, 'default', 'shrink', { spec: { replicas: 2 } });
    // The unscheduled pod goes at once (nothing to stop); the bound one terminates gracefully.
    await eventually(async () => {
      const names = active(await listPods(client, 'default', 'app=shrink')).map((p) => p.metadata!.name);
      return names.length === 2 && !names.includes(unscheduled) ? names : undefined;
    }, 10_000, 'unscheduled pod deleted');
    await client.patch(replicasets, 'default', 'shrink', { spec: { replicas: 1 } });
    const left = await eventually(async () => {
      const items = active(await listPods(client, 'default', 'app=shrink'));
      return items.length === 1 ? items : undefined;
    }, 10_000, 'one pod left');
    assert.equal(left[0]!.metadata!.name, ready);
    await eventually(async () => ((await status(client, 'shrink')).replicas === 1 ? true : undefined), 5_000, 'status.replicas=1');
  });

  test('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    await client.create(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', labels: { app: 'adopt', tier: 'web' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const rs = await client.create(replicasets, 'default', replicaSet('adopt', 2));
    const pods = await eventually(async () => {
      const items = await listPods(client, 'default', 'app=adopt');
      return items.length === 2 && items.every((p) => p.metadata?.ownerReferences?.length) ? items : undefined;
    }, 10_000, 'orphan adopted plus one new pod');
    const orphan = pods.find((p) => p.metadata!.name === 'orphan')!;
    assert.equal(orphan.metadata!.ownerReferences![0]!.uid, rs.metadata!.uid);
    assert.equal(orphan.metadata!.ownerReferences![0]!.controller, true);

    // Relabel the orphan: the ReplicaSet lets go of it and makes a replacement.
    await client.patch(podsResource, 'default', 'orphan', { metadata: { labels: { app: 'elsewhere' } } });
    await eventually(async () => {
      const released = await client.get(podsResource, 'default', 'orphan');
      return (released.metadata?.ownerReferences ?? []).length === 0 ? true : undefined;
    }, 10_000, 'orphan released');
    await eventually(async () => ((await listPods(client, 'default', 'app=adopt')).length === 2 ? true : undefined), 10_000, 'replacement created');
  });

  test('a pod controlled by another owner is left alone', async () => {
    await client.create(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'foreign',
        labels: { app: 'shared', tier: 'web' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: '00000000-0000-0000-0000-000000000001', controller: true }],
      },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await client.create(replicasets, 'default', replicaSet('shared', 1));
    await eventually(async () => ((await listPods(client, 'default', 'app=shared')).length === 2 ? true : undefined), 10_000, 'own pod created beside the foreign one');
    const foreign = await client.get(podsResource, 'default', 'foreign');
    assert.equal(foreign.metadata!.ownerReferences![0]!.name, 'other');
  });
});

describe('ReplicaSet controller with a lagging pod informer', () => {
  let c: TestCluster;
  let run: RunningControllers;
  before(async () => {
    c = await startTestCluster();
    // Pod events reach the controller 1.5 s late; ReplicaSet events on time. Every status write
    // triggers a reconcile that sees none of the pods created a moment before.
    const lagging = new LaggingClient(c, (r) => (r.plural === 'pods' ? 1500 : 0));
    run = await startControllers(c, [new ReplicaSetController()], { informerClient: lagging });
  });
  after(async () => {
    await run.stop();
    await c.close();
  });

  test('never has more pods than replicas', async () => {
    const client = adminClient(c);
    try {
      let max = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          max = Math.max(max, active(await listPods(client, 'default', 'app=lag')).length);
          await sleep(10);
        }
      })();
      await client.create(replicasets, 'default', replicaSet('lag', 4));
      // Poke the ReplicaSet repeatedly so it is reconciled while its pod cache is stale.
      for (let i = 0; i < 10; i++) {
        await client.patch(replicasets, 'default', 'lag', { metadata: { annotations: { poke: String(i) } } });
        await sleep(100);
      }
      await eventually(async () => ((await status(client, 'lag')).replicas === 4 ? true : undefined), 10_000, 'status.replicas=4');
      await client.patch(replicasets, 'default', 'lag', { spec: { replicas: 2 } });
      for (let i = 0; i < 5; i++) {
        await client.patch(replicasets, 'default', 'lag', { metadata: { annotations: { poke: `down-${i}` } } });
        await sleep(100);
      }
      await eventually(async () => (active(await listPods(client, 'default', 'app=lag')).length === 2 ? true : undefined), 10_000, '2 pods');
      await sleep(2000);
      sampling = false;
      await sampler;
      assert.equal(max, 4, 'at most 4 pods at any time');
      assert.equal(active(await listPods(client, 'default', 'app=lag')).length, 2, 'no extra pods after the informer caught up');
    } finally {
      await client.close();
    }
  });
});
