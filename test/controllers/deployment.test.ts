// The Deployment controller (with the ReplicaSet controller) against a real API server and the
// real kubectl: rollouts within maxSurge/maxUnavailable, minReadySeconds, Recreate, rollout
// status/history/undo, pause/resume, the progress deadline and the revision history limit. A
// simulator plays the scheduler and agents (binds pods, reports them ready, finishes graceful
// deletions).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { DeploymentController } from '../../controlplane/controllers/deployment/controller.js';
import { ReplicaSetController } from '../../controlplane/controllers/replicaset/controller.js';
import { eventually } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { listPods, sleep, startSimulatedCluster } from './workload-harness.js';
import type { SimulatedCluster } from './workload-harness.js';

const deployments = resourceFor('apps', 'deployments');
const replicasets = resourceFor('apps', 'replicasets');

function manifest(name: string, options: { replicas?: number; image?: string; strategy?: unknown; extraSpec?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      strategy: options.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: options.image ?? 'busybox:1' }] } },
      ...options.extraSpec,
    },
  });
}

function isReady(pod: KubeObject): boolean {
  return ((pod['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** When the pod last became ready (ms), from its Ready condition: whole seconds, rounded down. */
function readySince(pod: KubeObject): number {
  const cond = ((pod['status'] as any)?.conditions ?? []).find((x: any) => x.type === 'Ready' && x.status === 'True');
  assert.ok(cond, `pod ${pod.metadata?.name} is ready`);
  return Date.parse(cond.lastTransitionTime);
}

function live(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp);
}

function imageOf(pod: KubeObject): string {
  return (pod['spec'] as any).containers[0].image;
}

async function ownedReplicaSets(client: KubeClient, app: string): Promise<KubeObject[]> {
  return (await client.list(replicasets, 'default', { labelSelector: `app=${app}` })).items;
}

describe('Deployment controller', () => {
  let c: TestCluster;
  let client: KubeClient;
  let t: SimulatedCluster;
  before(async () => {
    ({ c, client } = t = await startSimulatedCluster([new DeploymentController(), new ReplicaSetController()], { 'node-a': {}, 'node-b': {} }, { nodes: ['node-a', 'node-b'], readyAfterMs: 300, becomesReady: (p) => imageOf(p) !== 'never-ready' }));
  });
  after(async () => {
    await t.close();
  });

  test('a new Deployment gets a ReplicaSet with pod-template-hash and revision 1, and rolls out', async () => {
    const applied = await c.kubectl(['apply', '-f', '-'], { input: manifest('web') });
    assert.equal(applied.code, 0, applied.stderr);
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /successfully rolled out/);

    const [rs, ...others] = await ownedReplicaSets(client, 'web');
    assert.equal(others.length, 0);
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs!.metadata!.name, `web-${hash}`);
    assert.equal((rs!['spec'] as any).selector.matchLabels['pod-template-hash'], hash);
    assert.equal((rs!['spec'] as any).template.metadata.labels['pod-template-hash'], hash);
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '4');
    const d = await client.get(deployments, 'default', 'web');
    assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    const st = d['status'] as any;
    assert.equal(st.observedGeneration, d.metadata!.generation);
    assert.deepEqual([st.replicas, st.updatedReplicas, st.readyReplicas, st.availableReplicas, st.unavailableReplicas ?? 0], [3, 3, 3, 3, 0]);
    const conditions = Object.fromEntries(st.conditions.map((x: any) => [x.type, x]));
    assert.equal(conditions.Available.reason, 'MinimumReplicasAvailable');
    assert.equal(conditions.Progressing.reason, 'NewReplicaSetAvailable');
    assert.equal(conditions.Progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
  });

  test('a rolling update stays within maxSurge and maxUnavailable and is a new revision', async () => {
    // Sample every pod of the Deployment continuously during the rollout.
    let minReady = Infinity;
    let maxPods = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = live(await listPods(client, 'default', 'app=web'));
        minReady = Math.min(minReady, pods.filter(isReady).length);
        maxPods = Math.max(maxPods, pods.length);
        await sleep(15);
      }
    })();
    const set = await c.kubectl(['set', 'image', 'deployment/web', 'c=busybox:2']);
    assert.equal(set.code, 0, set.stderr);
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    await eventually(async () => {
      const pods = live(await listPods(client, 'default', 'app=web'));
      return pods.length === 3 && pods.every((p) => imageOf(p) === 'busybox:2') ? true : undefined;
    }, 10_000, 'all pods on the new image');
    sampling = false;
    await sampler;
    assert.ok(minReady >= 2, `ready pods dropped to ${minReady} (replicas 3 − maxUnavailable 1 = 2)`);
    assert.ok(maxPods <= 4, `${maxPods} pods existed (replicas 3 + maxSurge 1 = 4)`);
    const d = await client.get(deployments, 'default', 'web');
    assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '2');
    const rss = await ownedReplicaSets(client, 'web');
    assert.equal(rss.length, 2);
    const old = rss.find((rs) => rs.metadata!.annotations!['deployment.kubernetes.io/revision'] === '1')!;
    assert.equal((old['spec'] as any).replicas, 0);
  });

  test('kubectl rollout history lists the revisions; undo and --to-revision restore old templates as new revisions', async () => {
    const history = await c.kubectl(['rollout', 'history', 'deployment/web']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /REVISION\s+CHANGE-CAUSE\s*\n1\s+<none>\s*\n2\s+<none>/);

    const undo = await c.kubectl(['rollout', 'undo', 'deployment/web']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /rolled back/);
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    let d = await client.get(deployments, 'default', 'web');
    assert.equal((d['spec'] as any).template.spec.containers[0].image, 'busybox:1');
    await eventually(async () => {
      d = await client.get(deployments, 'default', 'web');
      return d.metadata!.annotations!['deployment.kubernetes.io/revision'] === '3' ? true : undefined;
    }, 10_000, 'deployment revision 3');
    let rss = await ownedReplicaSets(client, 'web');
    assert.equal(rss.length, 2, 'the old ReplicaSet was reused, not copied');
    const current = rss.find((rs) => (rs['spec'] as any).template.spec.containers[0].image === 'busybox:1')!;
    assert.equal(current.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
    assert.equal(current.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1');

    const history2 = await c.kubectl(['rollout', 'history', 'deployment/web']);
    assert.match(history2.stdout, /\n2\s+<none>\s*\n3\s+<none>/);

    const toRevision = await c.kubectl(['rollout', 'undo', 'deployment/web', '--to-revision=2']);
    assert.equal(toRevision.code, 0, toRevision.stderr);
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    d = await client.get(deployments, 'default', 'web');
    assert.equal((d['spec'] as any).template.spec.containers[0].image, 'busybox:2');
    await eventually(async () => {
      rss = await ownedReplicaSets(client, 'web');
      const rev4 = rss.find((rs) => rs.metadata!.annotations!['deployment.kubernetes.io/revision'] === '4');
      return rev4 && (rev4['spec'] as any).template.spec.containers[0].image === 'busybox:2' ? true : undefined;
    }, 10_000, 'revision 2 became revision 4');
  });

  test('scaling works through kubectl scale, and mid-rollout it is proportional', async () => {
    const scaled = await c.kubectl(['scale', 'deployment/web', '--replicas=5']);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    await eventually(async () => (live(await listPods(client, 'default', 'app=web')).length === 5 ? true : undefined), 10_000, '5 pods');

    // Start a rollout that cannot finish (its pods never become ready), then scale it.
    const sizes = (rss: KubeObject[]) =>
      Object.fromEntries(rss.filter((rs) => (rs['spec'] as any).replicas > 0).map((rs) => [(rs['spec'] as any).template.spec.containers[0].image, (rs['spec'] as any).replicas]));
    await c.kubectl(['set', 'image', 'deployment/web', 'c=never-ready']);
    // 5 replicas, maxSurge 1, maxUnavailable 1: it gets stuck at old 4 + new 2 (6 in total).
    await eventually(async () => {
      const s = sizes(await ownedReplicaSets(client, 'web'));
      return s['busybox:2'] === 4 && s['never-ready'] === 2 ? true : undefined;
    }, 10_000, 'the rollout stuck at 4 old + 2 new');
    await sleep(300);
    assert.deepEqual(sizes(await ownedReplicaSets(client, 'web')), { 'busybox:2': 4, 'never-ready': 2 }, 'and stays there');
    await c.kubectl(['scale', 'deployment/web', '--replicas=10']);
    // 10 + maxSurge 1 = 11 spread 4:2 over 6 → old 7 (rounded 7.33), new 4 (3.67).
    await eventually(async () => {
      const s = sizes(await ownedReplicaSets(client, 'web'));
      return s['busybox:2'] === 7 && s['never-ready'] === 4 ? true : undefined;
    }, 10_000, 'proportional scale to 7 + 4');
    // Back to a template that works.
    await c.kubectl(['rollout', 'undo', 'deployment/web']);
    await c.kubectl(['scale', 'deployment/web', '--replicas=3']);
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
  });

  test('pause stops the rollout but not scaling; resume continues it', async () => {
    assert.equal((await c.kubectl(['rollout', 'pause', 'deployment/web'])).code, 0);
    await c.kubectl(['set', 'image', 'deployment/web', 'c=busybox:3']);
    await eventually(async () => {
      const d = await client.get(deployments, 'default', 'web');
      const cond = ((d['status'] as any).conditions ?? []).find((x: any) => x.type === 'Progressing');
      return cond?.reason === 'DeploymentPaused' && cond.status === 'Unknown' ? true : undefined;
    }, 10_000, 'Progressing=Unknown DeploymentPaused');
    await c.kubectl(['scale', 'deployment/web', '--replicas=4']);
    await eventually(async () => (live(await listPods(client, 'default', 'app=web')).length === 4 ? true : undefined), 10_000, 'scaled to 4 while paused');
    await sleep(500);
    assert.ok(live(await listPods(client, 'default', 'app=web')).every((p) => imageOf(p) !== 'busybox:3'), 'no pod of the paused template');
    assert.equal((await c.kubectl(['rollout', 'resume', 'deployment/web'])).code, 0);
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code, 0);
    const pods = live(await listPods(client, 'default', 'app=web'));
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => imageOf(p) === 'busybox:3'));
  });

  test('a rollout without progress for progressDeadlineSeconds fails kubectl rollout status', async () => {
    // lastUpdateTime is in whole seconds: 6 s leaves the first rollout room to finish under load.
    await c.kubectl(['apply', '-f', '-'], { input: manifest('stuck', { replicas: 2, extraSpec: { progressDeadlineSeconds: 6 } }) });
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=30s'])).code, 0);
    await c.kubectl(['set', 'image', 'deployment/stuck', 'c=never-ready']);
    const status = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=30s']);
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /exceeded its progress deadline/);
    const d = await client.get(deployments, 'default', 'stuck');
    const cond = ((d['status'] as any).conditions ?? []).find((x: any) => x.type === 'Progressing');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'ProgressDeadlineExceeded');
    assert.match(cond.message, /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    // The old pods keep serving: only maxUnavailable of them went.
    assert.ok(live(await listPods(client, 'default', 'app=stuck')).filter(isReady).length >= 1);
  });

  test('Recreate removes every old pod before creating new ones', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('batch', { replicas: 2, strategy: { type: 'Recreate' } }) });
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/batch', '--timeout=30s'])).code, 0);
    let overlap = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const images = new Set((await listPods(client, 'default', 'app=batch')).map(imageOf));
        if (images.size > 1) overlap = true;
        await sleep(10);
      }
    })();
    await c.kubectl(['set', 'image', 'deployment/batch', 'c=busybox:2']);
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/batch', '--timeout=60s'])).code, 0);
    sampling = false;
    await sampler;
    assert.equal(overlap, false, 'old and new pods never existed together (terminating ones included)');
    const pods = live(await listPods(client, 'default', 'app=batch'));
    assert.deepEqual(pods.map(imageOf), ['busybox:2', 'busybox:2']);
  });

  test('minReadySeconds: a pod counts as available only once ready that long, and maxUnavailable 0 keeps old pods until new ones are', async () => {
    const minReadySeconds = 3;
    // Ready conditions carry whole seconds (rounded down), so a pod may look up to 1 s older.
    const slackMs = 1000;
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const applied = await c.kubectl(['apply', '-f', '-'], { input: manifest('patient', { replicas: 2, strategy, extraSpec: { minReadySeconds } }) });
    assert.equal(applied.code, 0, applied.stderr);
    const firstAvailableAt = await eventually(async () => {
      const d = await client.get(deployments, 'default', 'patient');
      return ((d['status'] as any)?.availableReplicas ?? 0) > 0 ? Date.now() : undefined;
    }, 30_000, 'a pod available');
    const earliestReady = Math.min(...live(await listPods(client, 'default', 'app=patient')).map(readySince));
    assert.ok(
      firstAvailableAt >= earliestReady + minReadySeconds * 1000 - slackMs,
      `a pod counted as available ${firstAvailableAt - earliestReady} ms after the first became ready (minReadySeconds ${minReadySeconds})`,
    );
    assert.equal((await c.kubectl(['rollout', 'status', 'deployment/patient', '--timeout=60s'])).code, 0);
    const [rs] = await ownedReplicaSets(client, 'patient');
    assert.equal((rs!['spec'] as any).minReadySeconds, minReadySeconds, 'the ReplicaSet counts availability the same way');

    // Roll out a new template, noting when each old pod starts to go and the fewest ready pods.
    const oldPods = live(await listPods(client, 'default', 'app=patient')).map((p) => p.metadata!.name!);
    assert.equal(oldPods.length, 2);
    const goneAt = new Map<string, number>();
    let minReady = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = await listPods(client, 'default', 'app=patient');
        const at = Date.now();
        minReady = Math.min(minReady, live(pods).filter(isReady).length);
        for (const name of oldPods) {
          const pod = pods.find((p) => p.metadata!.name === name);
          if (!goneAt.has(name) && (!pod || pod.metadata?.deletionTimestamp)) goneAt.set(name, at);
        }
        await sleep(20);
      }
    })();
    try {
      assert.equal((await c.kubectl(['set', 'image', 'deployment/patient', 'c=busybox:2'])).code, 0);
      assert.equal((await c.kubectl(['rollout', 'status', 'deployment/patient', '--timeout=90s'])).code, 0);
      await eventually(async () => {
        const pods = live(await listPods(client, 'default', 'app=patient'));
        return pods.length === 2 && pods.every((p) => imageOf(p) === 'busybox:2') && goneAt.size === 2 ? true : undefined;
      }, 10_000, 'only new pods left');
    } finally {
      sampling = false;
      await sampler;
    }
    const newPods = live(await listPods(client, 'default', 'app=patient'));
    const earliestNewReady = Math.min(...newPods.map(readySince));
    const firstOldGone = Math.min(...goneAt.values());
    assert.ok(
      firstOldGone >= earliestNewReady + minReadySeconds * 1000 - slackMs,
      `an old pod went ${firstOldGone - earliestNewReady} ms after the first new pod became ready (minReadySeconds ${minReadySeconds})`,
    );
    assert.ok(minReady >= 2, `ready pods dropped to ${minReady} (replicas 2 − maxUnavailable 0)`);
  });

  test('revisionHistoryLimit deletes the oldest scaled-down ReplicaSets', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('short', { replicas: 1, extraSpec: { revisionHistoryLimit: 1 } }) });
    for (const image of ['busybox:2', 'busybox:3', 'busybox:4']) {
      await c.kubectl(['set', 'image', 'deployment/short', `c=${image}`]);
      assert.equal((await c.kubectl(['rollout', 'status', 'deployment/short', '--timeout=60s'])).code, 0);
    }
    const rss = await eventually(async () => {
      const list = await ownedReplicaSets(client, 'short');
      return list.length === 2 ? list : undefined;
    }, 10_000, 'two ReplicaSets left');
    const revisions = rss.map((rs) => rs.metadata!.annotations!['deployment.kubernetes.io/revision']).sort();
    assert.deepEqual(revisions, ['3', '4']);
  });
});
