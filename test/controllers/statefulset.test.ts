// The StatefulSet controller against a real API server and kubectl, without agents: the test
// plays the kubelet (binding pods, reporting them Running and Ready, finishing graceful
// deletions). Ordered creation and scale-down, Parallel, rolling updates with a partition,
// OnDelete, revisions with rollout history/undo, status, failed pods, adoption, garbage
// collection, and the refusal of volumeClaimTemplates.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { Informer } from '../../api/informer.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { garbageCollectorController } from '../../controlplane/controllers/garbagecollector/controller.js';
import { StatefulSetController } from '../../controlplane/controllers/statefulset/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { PodSimulator, bindPod, createNode, listPods, podsResource, setPodStatus, sleep, startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const statefulsets = resourceFor('apps', 'statefulsets');
const revisions = resourceFor('apps', 'controllerrevisions');
const events = resourceFor('', 'events');

interface SetOptions {
  replicas?: number;
  image?: string;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: unknown;
  ordinalsStart?: number;
  revisionHistoryLimit?: number;
  volumeClaimTemplates?: unknown[];
}

function manifest(name: string, options: SetOptions = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: options.replicas ?? 3,
      serviceName: `${name}-svc`,
      selector: { matchLabels: { app: name } },
      ...(options.podManagementPolicy ? { podManagementPolicy: options.podManagementPolicy } : {}),
      ...(options.updateStrategy ? { updateStrategy: options.updateStrategy } : {}),
      ...(options.ordinalsStart !== undefined ? { ordinals: { start: options.ordinalsStart } } : {}),
      ...(options.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: options.revisionHistoryLimit } : {}),
      ...(options.volumeClaimTemplates ? { volumeClaimTemplates: options.volumeClaimTemplates } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: options.image ?? 'busybox:1' }] },
      },
    },
  });
}

const nameOf = (p: KubeObject) => p.metadata!.name!;
const imageOf = (p: KubeObject) => (p['spec'] as any).containers[0].image as string;
const isReady = (p: KubeObject) => ((p['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

describe('StatefulSet controller', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;

  const kubectl = async (args: string[], input?: string) => {
    const out = await c.kubectl(args, { input });
    assert.equal(out.code, 0, `kubectl ${args.join(' ')}: ${out.stderr}`);
    return out.stdout;
  };
  const pods = async (app: string) => (await listPods(client, 'default', `app=${app}`)).sort((a, b) => nameOf(a).localeCompare(nameOf(b), 'en', { numeric: true }));
  const livePods = async (app: string) => (await pods(app)).filter((p) => !p.metadata?.deletionTimestamp);
  const names = async (app: string) => (await livePods(app)).map(nameOf);
  const setOf = (name: string) => client.get(statefulsets, 'default', name) as Promise<any>;
  const podOrUndefined = (name: string) => client.get(podsResource, 'default', name).catch(() => undefined);
  /** What a kubelet does for a pod on node-a: bind it (if the test did not) and report it Running. */
  const runPod = async (name: string, ready = true) => {
    await bindPod(client, 'default', name, 'node-a').catch(() => undefined);
    await setPodStatus(client, 'default', name, { ready });
  };
  /** The kubelet confirms that a gracefully deleted pod has stopped. */
  const finishDeletion = (name: string) => client.delete(podsResource, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
  /** The messages of `set`'s events with `reason`, once `until` accepts them (events are written in the background). */
  const eventMessages = (set: string, reason: string, until: (messages: string[]) => boolean = (messages) => messages.length > 0) =>
    eventually(async () => {
      const messages = (await client.list(events, 'default', { fieldSelector: `involvedObject.name=${set},reason=${reason}` })).items.map((e) => String(e['message']));
      return until(messages) ? messages : undefined;
    }, 10_000, `${set}'s ${reason} events`);
  /** Runs each pod of `set` as it appears, in ordinal order, until `count` run. */
  const bringUp = async (set: string, count: number) => {
    for (let i = 0; i < count; i++) {
      await eventually(() => podOrUndefined(`${set}-${i}`), 10_000, `${set}-${i} to be created`);
      await runPod(`${set}-${i}`);
    }
  };

  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new StatefulSetController(), garbageCollectorController()]);
    client = run.client;
    await createNode(client, 'node-a');
  });
  after(async () => {
    await run?.stop();
    await c?.close();
  });

  test('OrderedReady creates web-0, web-1, web-2 in order, each once the one before is Running and Ready', async () => {
    await kubectl(['apply', '-f', '-'], manifest('web'));
    for (let i = 0; i < 3; i++) {
      await eventually(() => podOrUndefined(`web-${i}`), 10_000, `web-${i} to be created`);
      await sleep(300);
      assert.deepEqual(await names('web'), Array.from({ length: i + 1 }, (_, j) => `web-${j}`), `only up to web-${i} while it is not ready`);
      if (i === 0) {
        // Running but not Ready is not enough.
        await runPod('web-0', false);
        await sleep(300);
        assert.deepEqual(await names('web'), ['web-0']);
      }
      await runPod(`web-${i}`);
    }
    const status = await kubectl(['rollout', 'status', 'statefulset/web', '--timeout=20s']);
    assert.match(status, /partitioned roll out complete: 3 new pods have been updated/);

    const set = await setOf('web');
    const st = set.status;
    assert.deepEqual(
      [st.observedGeneration, st.replicas, st.readyReplicas, st.availableReplicas, st.currentReplicas, st.updatedReplicas, st.collisionCount],
      [set.metadata.generation, 3, 3, 3, 3, 3, 0],
    );
    assert.equal(st.currentRevision, st.updateRevision);
    const [revision] = (await client.list(revisions, 'default', { labelSelector: 'app=web' })).items;
    assert.equal(revision?.metadata?.name, st.updateRevision);
    assert.equal(revision?.['revision'], 1);
    assert.equal(revision?.metadata?.ownerReferences?.[0]?.uid, set.metadata.uid);

    const [web1] = (await pods('web')).slice(1);
    assert.deepEqual(web1!.metadata!.labels, {
      app: 'web',
      'statefulset.kubernetes.io/pod-name': 'web-1',
      'apps.kubernetes.io/pod-index': '1',
      'controller-revision-hash': st.updateRevision,
    });
    assert.equal((web1!['spec'] as any).hostname, 'web-1');
    assert.equal((web1!['spec'] as any).subdomain, 'web-svc');
    assert.deepEqual(web1!.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const created = await eventMessages('web', 'SuccessfulCreate', (messages) => messages.length === 3);
    assert.deepEqual(created.sort(), [0, 1, 2].map((i) => `create Pod web-${i} in StatefulSet web successful`));
    assert.match(await kubectl(['get', 'statefulset', 'web', '--no-headers']), /^web\s+3\/3\s/);
  });

  test('OrderedReady scales down from the highest ordinal, one pod at a time, waiting for each to be gone', async () => {
    await kubectl(['scale', 'statefulset/web', '--replicas=5']);
    await bringUp('web', 5);
    await eventually(async () => ((await setOf('web')).status?.readyReplicas === 5 ? true : undefined), 10_000, '5 ready');

    await kubectl(['scale', 'statefulset/web', '--replicas=2']);
    for (const victim of ['web-4', 'web-3', 'web-2']) {
      await eventually(async () => ((await podOrUndefined(victim))?.metadata?.deletionTimestamp ? true : undefined), 10_000, `${victim} to be deleted`);
      await sleep(300);
      const deleting = (await pods('web')).filter((p) => p.metadata?.deletionTimestamp).map(nameOf);
      assert.deepEqual(deleting, [victim], `only ${victim} terminates until it is gone`);
      await finishDeletion(victim);
    }
    await eventually(async () => ((await pods('web')).map(nameOf).join() === 'web-0,web-1' ? true : undefined), 10_000, 'web-0 and web-1 left');
    await eventually(async () => ((await setOf('web')).status?.replicas === 2 ? true : undefined), 10_000, 'status.replicas 2');
    await eventMessages('web', 'SuccessfulDelete', (deleted) => deleted.includes('delete Pod web-4 in StatefulSet web successful'));
  });

  test('a failed pod is deleted and made again under its name', async () => {
    const before = await podOrUndefined('web-1');
    await setPodStatus(client, 'default', 'web-1', { phase: 'Failed', ip: null });
    const replacement = await eventually(async () => {
      const p = await podOrUndefined('web-1');
      return p && p.metadata?.uid !== before?.metadata?.uid ? p : undefined;
    }, 10_000, 'web-1 made again');
    assert.equal((replacement['status'] as any)?.phase, 'Pending');
    assert.deepEqual(await eventMessages('web', 'RecreatingFailedPod'), ['StatefulSet default/web is recreating failed Pod web-1']);
  });

  test('Parallel creates and deletes all pods at once, from ordinals.start', async () => {
    await kubectl(['apply', '-f', '-'], manifest('par', { podManagementPolicy: 'Parallel', ordinalsStart: 5 }));
    await eventually(async () => ((await names('par')).join() === 'par-5,par-6,par-7' ? true : undefined), 10_000, 'three pods, none ready');
    assert.ok((await pods('par')).every((p) => !isReady(p)));
    await runPod('par-6');
    await kubectl(['scale', 'statefulset/par', '--replicas=0']);
    // Unbound pods go at once; the bound one terminates gracefully, and all together.
    await eventually(async () => ((await livePods('par')).length === 0 ? true : undefined), 10_000, 'all deleted');
    await finishDeletion('par-6');
  });

  test('a rolling update goes highest ordinal first, one pod at a time, stopping at the partition; history and undo', async () => {
    const simulator = new PodSimulator(client, { nodes: ['node-a'], readyAfterMs: 150, terminateAfterMs: 50 });
    await simulator.start();
    const watcher = new Informer<KubeObject>(client, podsResource, { labelSelector: 'app=roll' });
    const replaced: string[] = [];
    let minReady = Infinity;
    const recordReady = () => (minReady = Math.min(minReady, watcher.list((p) => !p.metadata?.deletionTimestamp && isReady(p)).length));
    const abort = new AbortController();
    try {
      await kubectl(['apply', '-f', '-'], manifest('roll'));
      await kubectl(['rollout', 'status', 'statefulset/roll', '--timeout=20s']);
      const first = (await setOf('roll')).status.updateRevision as string;

      watcher.on({
        update: (old, p) => {
          if (p.metadata?.labels?.['app'] === 'roll' && p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) replaced.push(nameOf(p));
          if (p.metadata?.labels?.['app'] === 'roll') recordReady();
        },
        delete: () => recordReady(),
      });
      await watcher.start(abort.signal);
      await watcher.waitForSync();
      minReady = Infinity;

      const patch = { spec: { updateStrategy: { rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } };
      await kubectl(['patch', 'statefulset', 'roll', '-p', JSON.stringify(patch)]);
      const partial = await kubectl(['rollout', 'status', 'statefulset/roll', '--timeout=20s']);
      assert.match(partial, /partitioned roll out complete: 2 new pods have been updated/);
      assert.deepEqual(replaced, ['roll-2', 'roll-1']);
      assert.deepEqual((await livePods('roll')).map(imageOf), ['busybox:1', 'busybox:2', 'busybox:2']);
      let st = (await setOf('roll')).status;
      assert.equal(st.currentRevision, first, 'not complete while a pod is below the partition');
      assert.notEqual(st.updateRevision, first);
      assert.deepEqual([st.currentReplicas, st.updatedReplicas, st.readyReplicas], [1, 2, 3]);

      await kubectl(['patch', 'statefulset', 'roll', '-p', JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })]);
      await kubectl(['rollout', 'status', 'statefulset/roll', '--timeout=20s']);
      assert.deepEqual(replaced, ['roll-2', 'roll-1', 'roll-0']);
      assert.ok(minReady >= 2, `ready pods dropped to ${minReady} of 3`);
      st = await eventually(async () => {
        const s = (await setOf('roll')).status;
        return s.currentRevision === s.updateRevision ? s : undefined;
      }, 5_000, 'the update revision to become current');
      assert.deepEqual([st.currentReplicas, st.updatedReplicas], [3, 3]);

      assert.match(await kubectl(['rollout', 'history', 'statefulset/roll']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
      assert.match(await kubectl(['rollout', 'undo', 'statefulset/roll']), /statefulset.apps\/roll rolled back/);
      await eventually(async () => ((await setOf('roll')).status.updateRevision === first ? true : undefined), 5_000, 'the first revision to be the update revision again');
      await kubectl(['rollout', 'status', 'statefulset/roll', '--timeout=20s']);
      assert.deepEqual((await livePods('roll')).map(imageOf), ['busybox:1', 'busybox:1', 'busybox:1']);
      const numbers = (await client.list(revisions, 'default', { labelSelector: 'app=roll' })).items.map((r) => [r.metadata?.name, r['revision']]);
      assert.deepEqual(numbers.find(([name]) => name === first)?.[1], 3, 'the first revision is renumbered 3');
      assert.match(await kubectl(['rollout', 'history', 'statefulset/roll']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);

      // Deleting the set: the garbage collector removes its pods and revisions.
      await kubectl(['delete', 'statefulset', 'roll']);
      await eventually(async () => ((await pods('roll')).length === 0 ? true : undefined), 10_000, 'the pods of roll to go');
      await eventually(async () => ((await client.list(revisions, 'default', { labelSelector: 'app=roll' })).items.length === 0 ? true : undefined), 10_000, 'its revisions to go');
    } finally {
      abort.abort();
      await watcher.stopped();
      await simulator.stop();
    }
  });

  test('OnDelete leaves pods alone; a deleted pod comes back at the update revision', async () => {
    await kubectl(['apply', '-f', '-'], manifest('manual', { replicas: 2, updateStrategy: { type: 'OnDelete' } }));
    await bringUp('manual', 2);
    await kubectl(['set', 'image', 'statefulset/manual', 'c=busybox:2']);
    const set = await eventually(async () => {
      const s = await setOf('manual');
      return s.status?.observedGeneration === s.metadata.generation ? s : undefined;
    }, 10_000, 'the new generation observed');
    await sleep(300);
    assert.deepEqual((await livePods('manual')).map(imageOf), ['busybox:1', 'busybox:1']);
    assert.deepEqual([set.status.currentReplicas, set.status.updatedReplicas ?? 0], [2, 0]);
    assert.notEqual(set.status.currentRevision, set.status.updateRevision);

    await client.delete(podsResource, 'default', 'manual-1', { gracePeriodSeconds: 0 });
    const back = await eventually(async () => {
      const p = await podOrUndefined('manual-1');
      return p && imageOf(p) === 'busybox:2' ? p : undefined;
    }, 10_000, 'manual-1 on the new template');
    assert.equal(back.metadata?.labels?.['controller-revision-hash'], set.status.updateRevision);
    assert.equal(imageOf((await pods('manual'))[0]!), 'busybox:1');
  });

  test('revisionHistoryLimit old revisions are kept', async () => {
    await kubectl(['apply', '-f', '-'], manifest('hist', { replicas: 0, revisionHistoryLimit: 1 }));
    for (const tag of ['2', '3', '4']) {
      await kubectl(['set', 'image', 'statefulset/hist', `c=busybox:${tag}`]);
      await eventually(async () => {
        const s = await setOf('hist');
        return s.status?.observedGeneration === s.metadata.generation ? true : undefined;
      }, 10_000, `busybox:${tag} observed`);
    }
    const kept = await eventually(async () => {
      const items = (await client.list(revisions, 'default', { labelSelector: 'app=hist' })).items;
      return items.length === 2 ? items : undefined;
    }, 10_000, 'two revisions');
    assert.deepEqual(kept.map((r) => r['revision']).sort(), [3, 4]);
  });

  test('adopts an orphan pod named like a member and gives it its identity labels', async () => {
    const orphan: KubeObject = await client.create<KubeObject>(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'adopt-0', labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
    });
    await runPod('adopt-0');
    // Matched by the selector but not named like a member: never adopted.
    await client.create(podsResource, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } });
    await kubectl(['apply', '-f', '-'], manifest('adopt', { replicas: 1, updateStrategy: { type: 'OnDelete' } }));
    const set = await setOf('adopt');
    const adopted = await eventually(async () => {
      const p = await podOrUndefined('adopt-0');
      return p?.metadata?.labels?.['statefulset.kubernetes.io/pod-name'] === 'adopt-0' ? p : undefined;
    }, 10_000, 'adopt-0 adopted and labelled');
    assert.equal(adopted.metadata?.uid, orphan.metadata?.uid, 'the same pod');
    assert.equal(adopted.metadata?.ownerReferences?.[0]?.uid, set.metadata.uid);
    assert.equal(adopted.metadata?.labels?.['apps.kubernetes.io/pod-index'], '0');
    // The event is written after the label patch, in the background.
    const updated = await eventMessages('adopt', 'SuccessfulUpdate');
    assert.deepEqual(updated, ['update Pod adopt-0 in StatefulSet adopt successful']);
    await eventually(async () => ((await setOf('adopt')).status?.readyReplicas === 1 ? true : undefined), 10_000, 'status counts it');
    assert.equal((await podOrUndefined('stray'))?.metadata?.ownerReferences, undefined);
    assert.deepEqual(await names('adopt'), ['adopt-0', 'stray']);
  });

  test('a StatefulSet with volumeClaimTemplates is refused with a 422', async () => {
    const claims = [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
    const out = await c.kubectl(['apply', '-f', '-'], { input: manifest('claims', { volumeClaimTemplates: claims }) });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /spec\.volumeClaimTemplates: Forbidden: not supported by Skiff: it has no PersistentVolumeClaims yet/);
    const res = await c.api('POST', '/apis/apps/v1/namespaces/default/statefulsets', { body: manifest('claims', { volumeClaimTemplates: claims }) });
    assert.equal(res.status, 422);
    assert.deepEqual(
      res.body.details.causes.map((cause: any) => cause.field),
      ['spec.volumeClaimTemplates'],
    );
  });
});
