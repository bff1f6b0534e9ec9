// A controller whose write meets a concurrent change re-reads and tries again; it never
// overwrites the other writer's change. The controllers write through a client that lets the
// test make its own write to the same object just before a controller's write is sent, so the
// controller's resourceVersion is always stale and the API server answers 409 Conflict: the
// race happens every run, not by luck.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { DeploymentController } from '../../controlplane/controllers/deployment/controller.js';
import { ReplicaSetController } from '../../controlplane/controllers/replicaset/controller.js';
import { eventually } from '../helpers/cluster.js';
import { listPods, podsResource, recordVersions, startSimulatedCluster } from './workload-harness.js';
import type { SimulatedCluster } from './workload-harness.js';

const deployments = resourceFor('apps', 'deployments');
const replicasets = resourceFor('apps', 'replicasets');

interface Answer {
  method: string;
  path: string;
  /** 200 for any success, else the error's HTTP code. */
  code: number;
}

/**
 * The controllers' client. `raceBefore` arms a one-shot hook: just before the first request that
 * `matches`, `race` runs (the test's own write) and then the controller's request goes out as the
 * controller made it. Every write's answer is recorded.
 */
class RacingClient extends KubeClient {
  readonly answers: Answer[] = [];
  private armed: { matches: (method: string, path: string) => boolean; race: () => Promise<unknown> } | undefined;

  constructor(fenced: KubeClient) {
    // The fenced client's config carries the leader-lease headers: writes stay fenced.
    super(fenced.config);
  }

  raceBefore(matches: (method: string, path: string) => boolean, race: () => Promise<unknown>): void {
    this.armed = { matches, race };
  }

  /** The answers to the controllers' `method` requests on `path`, in order. */
  answersTo(method: string, path: string): number[] {
    return this.answers.filter((a) => a.method === method && a.path === path).map((a) => a.code);
  }

  override async request<T = unknown>(method: string, path: string, options: Parameters<KubeClient['request']>[2] = {}): Promise<T> {
    const armed = this.armed;
    if (armed?.matches(method, path)) {
      this.armed = undefined;
      await armed.race();
    }
    if (method === 'GET') return super.request<T>(method, path, options);
    try {
      const result = await super.request<T>(method, path, options);
      this.answers.push({ method, path, code: 200 });
      return result;
    } catch (err) {
      this.answers.push({ method, path, code: err instanceof StatusError ? err.code : 0 });
      throw err;
    }
  }
}

/** A Deployment or ReplicaSet of 2 busybox pods labelled app=NAME. */
function workload(kind: 'Deployment' | 'ReplicaSet', name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

describe('controllers meeting a conflicting write', () => {
  let t: SimulatedCluster;
  let client: KubeClient;
  let racing: RacingClient;
  before(async () => {
    t = await startSimulatedCluster(
      [new DeploymentController(), new ReplicaSetController()],
      { 'node-a': {} },
      { nodes: ['node-a'], readyAfterMs: 100 },
      { controllerClient: (fenced) => (racing = new RacingClient(fenced)) },
    );
    client = t.client;
  });
  after(async () => {
    await t.close();
  });

  test('the Deployment controller scaling a ReplicaSet keeps a label and annotation another writer just added', async () => {
    await client.create(deployments, 'default', workload('Deployment', 'web'));
    const rs = await eventually(async () => {
      const d = await client.get(deployments, 'default', 'web');
      if ((d['status'] as any)?.availableReplicas !== 2) return undefined;
      const items = (await client.list(replicasets, 'default', { labelSelector: 'app=web' })).items;
      return items.length === 1 ? items[0] : undefined;
    }, 30_000, 'the Deployment rolled out with 2 pods');
    const name = rs.metadata!.name!;
    const path = `/apis/apps/v1/namespaces/default/replicasets/${name}`;

    // Just before the controller's first update of the ReplicaSet (its scale), someone labels it.
    racing.raceBefore(
      (method, p) => method === 'PUT' && p === path,
      () => client.patch(replicasets, 'default', name, { metadata: { labels: { team: 'blue' }, annotations: { 'example.com/owner': 'team-blue' } } }),
    );
    await client.patch(deployments, 'default', 'web', { spec: { replicas: 4 } });

    const scaled = await eventually(async () => {
      const d = await client.get(deployments, 'default', 'web');
      const current = await client.get(replicasets, 'default', name);
      return (current['spec'] as any).replicas === 4 && (d['status'] as any)?.availableReplicas === 4 ? current : undefined;
    }, 30_000, 'the ReplicaSet scaled to 4 and the Deployment available');
    assert.equal(scaled.metadata!.labels!['team'], 'blue', "the other writer's label survived the controller's update");
    assert.equal(scaled.metadata!.annotations!['example.com/owner'], 'team-blue', "the other writer's annotation survived");
    assert.equal(scaled.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '4', "the controller's own annotation landed too");
    const answers = racing.answersTo('PUT', path);
    assert.equal(answers[0], 409, `the first update carried the stale resourceVersion (answers: ${answers.join(', ')})`);
    assert.equal(answers.at(-1), 200, 'and a later one, on a fresh copy, succeeded');
  });

  test('the ReplicaSet controller does not adopt a pod whose labels stopped matching just before its patch', async () => {
    const created = await client.create<KubeObject>(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const history = recordVersions(client, podsResource, 'default', 'stray', created.metadata!.resourceVersion!);
    const path = '/api/v1/namespaces/default/pods/stray';
    // The controllers' cache must hold the pod as it matched, so that adopting it is attempted.
    const cachedPods = t.run.ctx.informers.informer(podsResource);
    await eventually(async () => {
      const live = await client.get(podsResource, 'default', 'stray');
      const cached = cachedPods.getByName('default', 'stray');
      return (live['status'] as any)?.phase === 'Running' && cached?.metadata?.resourceVersion === live.metadata?.resourceVersion ? true : undefined;
    }, 10_000, 'the stray pod running and in the controllers cache');

    // Just before the controller's first patch of the pod (its adoption), someone relabels it.
    racing.raceBefore(
      (method, p) => method === 'PATCH' && p === path,
      () => client.patch(podsResource, 'default', 'stray', { metadata: { labels: { app: 'elsewhere' } } }),
    );
    const rs = await client.create<KubeObject>(replicasets, 'default', workload('ReplicaSet', 'adopt'));

    const owned = await eventually(async () => {
      const pods = (await listPods(client, 'default', 'app=adopt')).filter((p) => !p.metadata?.deletionTimestamp);
      const ours = pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === rs.metadata!.uid));
      const status = (await client.get(replicasets, 'default', 'adopt'))['status'] as any;
      return ours.length === 2 && pods.length === 2 && status?.replicas === 2 ? ours : undefined;
    }, 30_000, 'the ReplicaSet at 2 pods of its own');
    await history.stop();

    assert.ok(
      history.versions.some((v) => v.metadata?.labels?.['app'] === 'elsewhere'),
      'the watch followed the pod through the relabelling',
    );
    const adoptedVersions = history.versions.filter((v) => v.metadata?.ownerReferences?.some((r) => r.uid === rs.metadata!.uid));
    assert.deepEqual(
      adoptedVersions.map((v) => v.metadata?.labels),
      [],
      'no version of the relabelled pod ever had the ReplicaSet as its owner',
    );
    const stray = await client.get(podsResource, 'default', 'stray');
    assert.deepEqual(stray.metadata!.labels, { app: 'elsewhere' }, "the other writer's labels stand");
    assert.deepEqual(stray.metadata!.ownerReferences ?? [], []);
    assert.ok(!owned.some((p) => p.metadata!.name === 'stray'), 'the ReplicaSet made its own pods instead');
    const answers = racing.answersTo('PATCH', path);
    assert.equal(answers[0], 409, `the adoption carried the stale resourceVersion (answers: ${answers.join(', ')})`);
  });
});
