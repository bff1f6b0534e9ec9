// The DaemonSet controller against a real API server and kubectl: one pod per eligible node
// (nodeSelector, taints, joining and leaving nodes, the pods of a node that left deleted by pod
// GC), daemon tolerations and node pinning, ControllerRevisions, rolling updates with
// maxUnavailable or maxSurge, OnDelete, and the status `kubectl rollout status ds` reads.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { DaemonSetController } from '../../controlplane/controllers/daemonset/controller.js';
import { nodeLifecycleController } from '../../controlplane/controllers/nodelifecycle/controller.js';
import { eventually } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { createNode, listPods, nodesResource, podsResource, sleep, startControllers, startSimulatedCluster } from './workload-harness.js';
import type { SimulatedCluster } from './workload-harness.js';

const daemonsets = resourceFor('apps', 'daemonsets');
const revisions = resourceFor('apps', 'controllerrevisions');

function manifest(name: string, options: { image?: string; nodeSelector?: Record<string, string>; updateStrategy?: unknown; tolerations?: unknown[] } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: options.updateStrategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'c', image: options.image ?? 'busybox:1' }],
          ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
          ...(options.tolerations ? { tolerations: options.tolerations } : {}),
        },
      },
    },
  });
}

function nodeOf(pod: KubeObject): string {
  return (pod['spec'] as any).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0];
}

function live(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp);
}

function isReady(pod: KubeObject): boolean {
  return ((pod['status'] as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

async function podNodes(client: KubeClient, app: string): Promise<string[]> {
  return live(await listPods(client, 'default', `app=${app}`)).map(nodeOf).sort();
}

async function dsStatus(client: KubeClient, name: string): Promise<any> {
  return (await client.get(daemonsets, 'default', name))['status'] ?? {};
}

/** desired, current, ready, available, updated and misscheduled, in that order. */
async function dsCounts(client: KubeClient, name: string): Promise<string> {
  const st = await dsStatus(client, name);
  return [st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.numberAvailable, st.updatedNumberScheduled, st.numberMisscheduled].join();
}

/** Waits until the DaemonSet's status counts (as dsCounts) are `counts`. */
async function countsBecome(client: KubeClient, name: string, counts: number[], what: string): Promise<void> {
  let last = '';
  await eventually(async () => ((last = await dsCounts(client, name)) === counts.join() ? true : undefined), 20_000, what).catch((err: unknown) => {
    throw new Error(`${(err as Error).message} (last counts ${last}, want ${counts.join()})`);
  });
}

describe('DaemonSet controller', () => {
  let c: TestCluster;
  let client: KubeClient;
  let t: SimulatedCluster;
  before(async () => {
    ({ c, client } = t = await startSimulatedCluster([new DaemonSetController()], { 'node-a': { labels: { disk: 'ssd' } }, 'node-b': { labels: { disk: 'ssd' } } }, { nodes: [], readyAfterMs: 200 }));
  });
  after(async () => {
    await t.close();
  });

  test('one pod per node, pinned by node affinity, with the daemon tolerations and a revision', async () => {
    assert.equal((await c.kubectl(['apply', '-f', '-'], { input: manifest('agent') })).code, 0);
    await eventually(async () => ((await podNodes(client, 'agent')).join() === 'node-a,node-b' ? true : undefined), 10_000, 'a pod on each node');
    const [pod] = await listPods(client, 'default', 'app=agent');
    assert.match(pod!.metadata!.name!, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const tolerations = (pod!['spec'] as any).tolerations.map((t: any) => `${t.key}:${t.effect}`);
    for (const t of [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]) assert.ok(tolerations.includes(t), t);
    const crs = (await client.list(revisions, 'default')).items.filter((r) => r.metadata!.name!.startsWith('agent-'));
    assert.equal(crs.length, 1);
    assert.equal(crs[0]!['revision'], 1);
    assert.equal(pod!.metadata!.labels!['controller-revision-hash'], crs[0]!.metadata!.labels!['controller-revision-hash']);
    const status = await c.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(status.code, 0, status.stderr);
    const st = await dsStatus(client, 'agent');
    assert.deepEqual(
      [st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.numberAvailable, st.updatedNumberScheduled, st.numberMisscheduled],
      [2, 2, 2, 2, 2, 0],
    );
  });

  test('follows nodes that join, become ineligible and leave; honours nodeSelector and taints', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('ssd-only', { nodeSelector: { disk: 'ssd' } }) });
    await eventually(async () => ((await podNodes(client, 'ssd-only')).join() === 'node-a,node-b' ? true : undefined), 10_000, 'ssd nodes');
    await createNode(client, 'node-c', { labels: { disk: 'ssd' } });
    await createNode(client, 'node-hdd', { labels: { disk: 'hdd' } });
    await createNode(client, 'node-tainted', { labels: { disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] });
    await eventually(async () => ((await podNodes(client, 'ssd-only')).join() === 'node-a,node-b,node-c' ? true : undefined), 10_000, 'the joining ssd node gets a pod');
    await sleep(300);
    assert.deepEqual(await podNodes(client, 'ssd-only'), ['node-a', 'node-b', 'node-c'], 'no pod on the hdd or tainted node');
    // The agent DaemonSet (no selector) follows too, except onto the tainted node.
    await eventually(async () => ((await podNodes(client, 'agent')).join() === 'node-a,node-b,node-c,node-hdd' ? true : undefined), 10_000, 'agent on every untainted node');

    // node-c stops being an ssd node: its pod goes.
    await client.patch(nodesResource, undefined, 'node-c', { metadata: { labels: { disk: 'hdd' } } });
    await eventually(async () => ((await podNodes(client, 'ssd-only')).join() === 'node-a,node-b' ? true : undefined), 10_000, 'pod removed from node-c');
    await countsBecome(client, 'ssd-only', [2, 2, 2, 2, 2, 0], 'ssd-only on node-a and node-b only');
    await countsBecome(client, 'agent', [4, 4, 4, 4, 4, 0], 'agent on four nodes');

    // node-b leaves the cluster: the DaemonSets stop counting it at once.
    await client.delete(nodesResource, undefined, 'node-b');
    await countsBecome(client, 'ssd-only', [1, 1, 1, 1, 1, 0], 'ssd-only counting node-a only');
    await countsBecome(client, 'agent', [3, 3, 3, 3, 3, 0], 'agent counting three nodes');
    // Their pods bound to node-b are not the DaemonSet controller's to delete (nor Kubernetes'):
    // pod GC deletes them, which in Skiff is the node lifecycle controller's part. Started only
    // now, so that the counts above are the DaemonSet controller's own; it finds pods bound to a
    // node it never saw and deletes them after a short quarantine.
    const onNodeB = async () => (await client.list(podsResource, 'default', { fieldSelector: 'spec.nodeName=node-b' })).items;
    assert.deepEqual((await onNodeB()).map((p) => p.metadata!.labels!['app']).sort(), ['agent', 'ssd-only']);
    const podGc = await startControllers(c, [nodeLifecycleController({ gracePeriodMs: 3_600_000, monitorPeriodMs: 200 })], { identity: 'pod-gc' });
    try {
      await eventually(async () => ((await onNodeB()).length === 0 ? true : undefined), 20_000, 'the pods bound to node-b to be deleted');
    } finally {
      await podGc.stop();
    }
    assert.deepEqual(await podNodes(client, 'ssd-only'), ['node-a'], 'no pod for node-b, and none made again');
    assert.deepEqual(await podNodes(client, 'agent'), ['node-a', 'node-c', 'node-hdd']);
    await countsBecome(client, 'ssd-only', [1, 1, 1, 1, 1, 0], 'ssd-only counts unchanged');
    await countsBecome(client, 'agent', [3, 3, 3, 3, 3, 0], 'agent counts unchanged');
  });

  test('a rolling update replaces pods within maxUnavailable and records a new revision; undo goes back', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('roll', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }) });
    assert.equal((await c.kubectl(['rollout', 'status', 'daemonset/roll', '--timeout=30s'])).code, 0);
    const nodes = (await podNodes(client, 'roll')).length;
    assert.ok(nodes >= 3, `${nodes} nodes`);
    let minReady = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        minReady = Math.min(minReady, live(await listPods(client, 'default', 'app=roll')).filter(isReady).length);
        await sleep(10);
      }
    })();
    assert.equal((await c.kubectl(['set', 'image', 'daemonset/roll', 'c=busybox:2'])).code, 0);
    const status = await c.kubectl(['rollout', 'status', 'daemonset/roll', '--timeout=60s']);
    sampling = false;
    await sampler;
    assert.equal(status.code, 0, status.stderr);
    assert.ok(minReady >= nodes - 1, `ready pods dropped to ${minReady} of ${nodes}`);
    const pods = live(await listPods(client, 'default', 'app=roll'));
    assert.ok(pods.every((p) => (p['spec'] as any).containers[0].image === 'busybox:2'));
    const history = await c.kubectl(['rollout', 'history', 'daemonset/roll']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /\n1\s+<none>\s*\n2\s+<none>/);

    const undo = await c.kubectl(['rollout', 'undo', 'daemonset/roll']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal((await c.kubectl(['rollout', 'status', 'daemonset/roll', '--timeout=60s'])).code, 0);
    await eventually(async () => {
      const images = live(await listPods(client, 'default', 'app=roll')).map((p) => (p['spec'] as any).containers[0].image);
      return images.length === nodes && images.every((i) => i === 'busybox:1') ? true : undefined;
    }, 20_000, 'back on busybox:1');
    const crs = (await client.list(revisions, 'default')).items.filter((r) => r.metadata!.name!.startsWith('roll-'));
    assert.deepEqual(crs.map((r) => r['revision']).sort(), [2, 3], 'the old revision became revision 3');
  });

  test('with maxSurge the new pod is available before the old one goes', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('surge', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }) });
    assert.equal((await c.kubectl(['rollout', 'status', 'daemonset/surge', '--timeout=30s'])).code, 0);
    const nodes = (await podNodes(client, 'surge')).length;
    let minReady = Infinity;
    let maxPods = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = live(await listPods(client, 'default', 'app=surge'));
        minReady = Math.min(minReady, pods.filter(isReady).length);
        maxPods = Math.max(maxPods, pods.length);
        await sleep(10);
      }
    })();
    await c.kubectl(['set', 'image', 'daemonset/surge', 'c=busybox:2']);
    const status = await c.kubectl(['rollout', 'status', 'daemonset/surge', '--timeout=60s']);
    sampling = false;
    await sampler;
    assert.equal(status.code, 0, status.stderr);
    assert.ok(minReady >= nodes, `ready pods dropped to ${minReady} of ${nodes}`);
    assert.ok(maxPods <= nodes + 1, `${maxPods} pods at once`);
    assert.ok(maxPods === nodes + 1, 'a surge pod existed');
  });

  test('OnDelete replaces a pod only when it is deleted', async () => {
    await c.kubectl(['apply', '-f', '-'], { input: manifest('manual', { updateStrategy: { type: 'OnDelete' } }) });
    await eventually(async () => ((await podNodes(client, 'manual')).length >= 3 ? true : undefined), 10_000, 'pods');
    await c.kubectl(['set', 'image', 'daemonset/manual', 'c=busybox:2']);
    await eventually(async () => {
      const st = await dsStatus(client, 'manual');
      const d = await client.get(daemonsets, 'default', 'manual');
      return st.observedGeneration === d.metadata!.generation ? true : undefined;
    }, 10_000, 'generation observed');
    await sleep(500);
    const pods = live(await listPods(client, 'default', 'app=manual'));
    assert.ok(pods.every((p) => (p['spec'] as any).containers[0].image === 'busybox:1'), 'nothing replaced by itself');
    assert.equal((await dsStatus(client, 'manual')).updatedNumberScheduled ?? 0, 0);
    const victim = pods[0]!;
    await client.delete(podsResource, 'default', victim.metadata!.name!);
    await eventually(async () => {
      const now = live(await listPods(client, 'default', 'app=manual'));
      const replacement = now.find((p) => nodeOf(p) === nodeOf(victim) && p.metadata!.uid !== victim.metadata!.uid);
      return replacement && (replacement['spec'] as any).containers[0].image === 'busybox:2' ? true : undefined;
    }, 10_000, 'the deleted pod came back on the new template');
  });
});
