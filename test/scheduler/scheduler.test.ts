// The scheduler in a real control plane, binding pods onto hollow nodes through the API.

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { schedulerController } from '../../controlplane/scheduler/scheduler.js';
import { eventually } from '../helpers/cluster.js';
import { boundNode, createPod, startControlledCluster } from './controlled-cluster.js';
import type { ControlledCluster } from './controlled-cluster.js';
import type { PodShape } from './fixtures.js';

const pods = resourceFor('', 'pods');
const nodes = resourceFor('', 'nodes');
const events = resourceFor('', 'events');
type PodObject = Pod & KubeObject;

/** The most scheduling attempts the default back-off (1 s, doubling up to 10 s) allows in `ms`, however often the cluster changes. */
function attemptsAllowed(ms: number): number {
  let attempts = 1;
  for (let at = 0, backoff = 1000; (at += backoff) <= ms; backoff = Math.min(2 * backoff, 10_000)) attempts++;
  return attempts;
}

describe('scheduler', () => {
  let t: ControlledCluster;
  afterEach(async () => {
    await t?.close();
  });

  const start = async () => (t = await startControlledCluster([schedulerController()]));
  /**
   * A scheduler that, like the default one, retries an unschedulable pod on its own only after 5
   * minutes, while a cluster change brings it back at once (at most 0.5 s after its failure, not
   * the default 1 s, 2 s, 4 s...): a pod placed within a test's wait was placed because of the
   * change the test made.
   */
  const startRetryingOnChanges = async () =>
    (t = await startControlledCluster([schedulerController({ queue: { initialBackoffMs: 300_000, maxBackoffMs: 500, maxRetryMs: 300_000 } })]));
  /** Well within the 5-minute retry, generous for a loaded machine. */
  const SOON_MS = 30_000;
  const create = (name: string, shape: PodShape = {}) => createPod(t.client, name, shape);
  const scheduledCondition = (name: string) =>
    eventually(async () => {
      const p = await t.client.get<PodObject>(pods, 'default', name);
      const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' ? c : undefined;
    }, 10_000, `${name} to be marked unschedulable`);

  test('the pods of one owner spread evenly over the nodes', async () => {
    await start();
    for (const n of ['n1', 'n2', 'n3']) await t.nodes.add(n);
    const owner = { owner: 'web-rs' };
    await Promise.all(Array.from({ length: 6 }, (_, i) => create(`web-${i}`, { ...owner, cpu: '100m' })));
    const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => boundNode(t.client, `web-${i}`)));
    const counts = new Map<string, number>();
    for (const n of placed) counts.set(n, (counts.get(n) ?? 0) + 1);
    assert.deepEqual([...counts.values()].sort(), [2, 2, 2], JSON.stringify(placed));
    const bound = await t.client.get<PodObject>(pods, 'default', 'web-0');
    assert.equal(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  });

  test('kubectl cordon keeps new pods off a node; uncordon lets them back at once', async () => {
    await startRetryingOnChanges();
    await t.nodes.add('n1');
    await t.nodes.add('n2');
    assert.equal((await t.cluster.kubectl(['cordon', 'n1'])).code, 0);
    for (let i = 0; i < 4; i++) await create(`c-${i}`);
    for (let i = 0; i < 4; i++) assert.equal(await boundNode(t.client, `c-${i}`), 'n2');
    await create('pinned', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'n1' } } });
    const why = await scheduledCondition('pinned');
    assert.equal(why.message, "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable.");
    assert.equal((await t.cluster.kubectl(['uncordon', 'n1'])).code, 0);
    assert.equal(await boundNode(t.client, 'pinned', 'default', SOON_MS), 'n1');
  });

  test('taints keep pods away unless tolerated', async () => {
    await start();
    await t.nodes.add('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], labels: { kind: 'gpu' } });
    await t.nodes.add('plain');
    await create('ordinary', { spec: { nodeSelector: { kind: 'gpu' } } });
    const why = await scheduledCondition('ordinary');
    assert.equal(why.reason, 'Unschedulable');
    assert.equal(why.message, "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}.");
    await create('tolerant', { spec: { nodeSelector: { kind: 'gpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    assert.equal(await boundNode(t.client, 'tolerant'), 'gpu');
  });

  test('nodeSelector and required node affinity pick the node', async () => {
    await start();
    await t.nodes.add('a', { labels: { zone: 'east', disk: 'ssd' } });
    await t.nodes.add('b', { labels: { zone: 'west' } });
    await create('by-selector', { spec: { nodeSelector: { zone: 'west' } } });
    await create('by-affinity', {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'Exists' }, { key: 'zone', operator: 'NotIn', values: ['west'] }] }],
            },
          },
        },
      },
    });
    assert.equal(await boundNode(t.client, 'by-selector'), 'b');
    assert.equal(await boundNode(t.client, 'by-affinity'), 'a');
  });

  test('host ports and pod anti-affinity allow one pod per node', async () => {
    await start();
    await t.nodes.add('n1');
    await t.nodes.add('n2');
    for (let i = 0; i < 3; i++) await create(`port-${i}`, { hostPort: 8080 });
    const antiAffinity = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] },
    };
    for (let i = 0; i < 3; i++) await create(`db-${i}`, { labels: { app: 'db' }, spec: { affinity: antiAffinity } });
    const portNodes = new Set<string>();
    const dbNodes = new Set<string>();
    let pendingPort = '';
    let pendingDb = '';
    await eventually(async () => {
      const list = await t.client.list<PodObject>(pods, 'default');
      const bound = list.items.filter((p) => p.spec?.nodeName);
      const waiting = list.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
      return bound.length === 4 && waiting.length === 2 ? true : undefined;
    }, 10_000, 'two pods of each kind bound, one of each pending');
    for (const p of (await t.client.list<PodObject>(pods, 'default')).items) {
      const name = p.metadata!.name!;
      if (p.spec?.nodeName) (name.startsWith('port') ? portNodes : dbNodes).add(p.spec.nodeName);
      else if (name.startsWith('port')) pendingPort = name;
      else pendingDb = name;
    }
    assert.equal(portNodes.size, 2);
    assert.equal(dbNodes.size, 2);
    assert.equal((await scheduledCondition(pendingPort)).message, "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
    assert.equal((await scheduledCondition(pendingDb)).message, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
  });

  test('a bound pod relabelled out of an anti-affinity lets the waiting pod in at once', async () => {
    await startRetryingOnChanges();
    await t.nodes.add('n1');
    const antiAffinity = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] },
    };
    // db-0 itself has no anti-affinity (its own term would keep db-1 away whatever its labels).
    await create('db-0', { labels: { app: 'db' } });
    assert.equal(await boundNode(t.client, 'db-0'), 'n1');
    await create('db-1', { labels: { app: 'db' }, spec: { affinity: antiAffinity } });
    assert.equal((await scheduledCondition('db-1')).message, "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
    await t.client.patch(pods, 'default', 'db-0', { metadata: { labels: { app: 'retired' } } });
    assert.equal(await boundNode(t.client, 'db-1', 'default', SOON_MS), 'n1');
  });

  test('a pod that must join a pod not yet placed (required pod affinity) follows it as soon as that pod is bound', async () => {
    await startRetryingOnChanges();
    await t.nodes.add('n1');
    await t.nodes.add('n2');
    const affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    await create('sidecar', { labels: { app: 'sidecar' }, spec: { affinity } });
    assert.equal((await scheduledCondition('sidecar')).message, "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.");
    // Bound by the scheduler: the pod goes from pending to assigned (kube-scheduler's AssignedPodAdd).
    await create('cache', { labels: { app: 'cache' } });
    const cacheNode = await boundNode(t.client, 'cache');
    assert.equal(await boundNode(t.client, 'sidecar', 'default', SOON_MS), cacheNode);
    // Created already bound (as a DaemonSet's or a static pod is): the same.
    await create('sidecar-2', { labels: { app: 'sidecar' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'pinned' } }, topologyKey: 'kubernetes.io/hostname' }] } } } });
    await scheduledCondition('sidecar-2');
    await create('pinned', { labels: { app: 'pinned' }, nodeName: 'n2' });
    assert.equal(await boundNode(t.client, 'sidecar-2', 'default', SOON_MS), 'n2');
  });

  test('a node deleted can let a spread constraint be met: the waiting pod is placed at once', async () => {
    await startRetryingOnChanges();
    await t.nodes.add('a1', { labels: { zone: 'a' } });
    // Zone b counts as a domain (taints are ignored for spreading) but takes no pod.
    await t.nodes.add('b1', { labels: { zone: 'b' }, taints: [{ key: 'dedicated', value: 'other', effect: 'NoSchedule' }] });
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' as const, labelSelector: { matchLabels: { app: 'spread' } } }] };
    await create('spread-0', { labels: { app: 'spread' }, spec: spread });
    assert.equal(await boundNode(t.client, 'spread-0'), 'a1');
    await create('spread-1', { labels: { app: 'spread' }, spec: spread });
    assert.match((await scheduledCondition('spread-1')).message ?? '', /^0\/2 nodes are available: .*1 node\(s\) didn't match pod topology spread constraints/);
    t.nodes.stop('b1');
    await t.client.delete(nodes, undefined, 'b1');
    assert.equal(await boundNode(t.client, 'spread-1', 'default', SOON_MS), 'a1');
  });

  test('a pod too big for any node says why (condition and event) and is placed as soon as a node that fits joins', async () => {
    await startRetryingOnChanges();
    await t.nodes.add('small-1', { cpu: '2' });
    await t.nodes.add('small-2', { cpu: '2' });
    await create('big', { cpu: '6' });
    const why = await scheduledCondition('big');
    assert.equal(why.reason, 'Unschedulable');
    assert.equal(why.message, '0/2 nodes are available: 2 Insufficient cpu.');
    const event = await eventually(async () => {
      const list = await t.client.list(events, 'default', { fieldSelector: 'involvedObject.name=big,reason=FailedScheduling' });
      return list.items[0];
    }, 10_000, 'a FailedScheduling event');
    assert.equal(event['type'], 'Warning');
    assert.equal(event['message'], '0/2 nodes are available: 2 Insufficient cpu.');
    assert.equal((event['source'] as { component: string }).component, 'default-scheduler');
    const describe = await t.cluster.kubectl(['describe', 'pod', 'big']);
    assert.match(describe.stdout, /FailedScheduling .*0\/2 nodes are available: 2 Insufficient cpu\./);
    // The node joins as an agent's does: created, then Ready with its allocatable resources.
    await t.nodes.add('large', { cpu: '8' });
    assert.equal(await boundNode(t.client, 'big', 'default', SOON_MS), 'large');
    const scheduled = await eventually(async () => {
      const list = await t.client.list(events, 'default', { fieldSelector: 'involvedObject.name=big,reason=Scheduled' });
      return list.items[0];
    }, 10_000, 'a Scheduled event');
    assert.equal(scheduled['message'], 'Successfully assigned default/big to large');
  });

  test('impossible pods wait with their reason, never retried faster than the back-off however often the cluster changes; other pods still get placed', async () => {
    // The default queue: after a failure a pod waits 1 s, 2 s, 4 s... (at most 10 s) before a
    // cluster change may bring it back, and 5 min if nothing changes.
    await start();
    await t.nodes.add('n1', { cpu: '2' });
    const createdAt = Date.now();
    await create('no-such-node', { spec: { nodeSelector: { disk: 'ssd' } } });
    await create('too-big', { cpu: '64' });
    assert.equal((await scheduledCondition('no-such-node')).message, "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
    assert.equal((await scheduledCondition('too-big')).message, '0/1 nodes are available: 1 Insufficient cpu.');
    // A change that may let them fit, 5 times a second for 6 s: a relabelled node.
    for (let i = 0; i < 30; i++) {
      await t.client.patch(nodes, undefined, 'n1', { metadata: { labels: { tick: String(i) } } });
      await new Promise((r) => setTimeout(r, 200));
    }
    // Each attempt adds one to the FailedScheduling event's count.
    for (const name of ['no-such-node', 'too-big']) {
      const event = await eventually(async () => {
        const list = await t.client.list(events, 'default', { fieldSelector: `involvedObject.name=${name},reason=FailedScheduling` });
        return list.items[0];
      }, 10_000, `${name}'s FailedScheduling event`);
      const attempts = event['count'] as number;
      const elapsed = Date.now() - createdAt;
      // The changes brought the pods back (the periodic retry waits 5 min), but no faster than the back-off.
      assert.ok(attempts >= 2 && attempts <= attemptsAllowed(elapsed), `${name}: ${attempts} attempts in ${elapsed} ms`);
      assert.equal((await t.client.get<PodObject>(pods, 'default', name)).spec?.nodeName, undefined);
    }
    await create('fits');
    assert.equal(await boundNode(t.client, 'fits'), 'n1');
  });

  test('pods get the default not-ready/unreachable tolerations at admission, and keep their own', async () => {
    await start();
    const created = await create('plain');
    assert.deepEqual(created.spec?.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const own = await create('own', { spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] } });
    assert.deepEqual(own.spec?.tolerations, [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const all = await create('all', { spec: { tolerations: [{ operator: 'Exists' }] } });
    assert.deepEqual(all.spec?.tolerations, [{ operator: 'Exists' }]);
  });
});
