// StatefulSets on a real two-node cluster (`skiff agent` processes on the one Docker engine),
// driven with the real kubectl. The tests share the cluster and one StatefulSet, in order:
// ordered start, a rolling update from the highest ordinal, history and undo, scaling down and up.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../api/client.js';
import { Informer } from '../../api/informer.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { eventually } from '../helpers/cluster.js';
import type { MultiNodeCluster } from '../helpers/multinode.js';
import { startMultiNodeCluster } from '../helpers/multinode.js';

function statefulSet(image: string, version: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'web',
              image,
              imagePullPolicy: 'Never',
              env: [{ name: 'VERSION', value: version }],
              // Says who it is, becomes ready, and stops at once on SIGTERM (`wait` is interruptible).
              command: ['sh', '-c', 'trap "exit 0" TERM; echo "$(hostname) $VERSION"; touch /tmp/ready; sleep 3600 & wait'],
              readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

/**
 * What happened to the set's pods, in the order the API said it: `created web-0`, `ready web-0`,
 * `deleting web-2`, `gone web-2` (each once per pod incarnation).
 */
class PodTimeline {
  readonly entries: string[] = [];
  private readonly seen = new Set<string>();
  private readonly abort = new AbortController();
  private readonly informer: Informer<KubeObject>;

  constructor(client: KubeClient, labelSelector: string) {
    this.informer = new Informer<KubeObject>(client, resourceFor('', 'pods'), { namespace: 'default', labelSelector, minBackoffMs: 100 });
    this.informer.on({ add: (p) => this.observe(p), update: (_old, p) => this.observe(p), delete: (p) => this.note('gone', p) });
  }

  async start(): Promise<void> {
    await this.informer.start(this.abort.signal);
    await this.informer.waitForSync();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.informer.stopped();
  }

  /** The entries of these kinds since `from` (an index into entries). */
  since(from: number, ...kinds: string[]): string[] {
    return this.entries.slice(from).filter((e) => kinds.some((k) => e.startsWith(`${k} `)));
  }

  private observe(pod: KubeObject): void {
    this.note('created', pod);
    const conditions = ((pod['status'] as any)?.conditions ?? []) as { type: string; status: string }[];
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) this.note('ready', pod);
    if (pod.metadata?.deletionTimestamp) this.note('deleting', pod);
  }

  private note(what: string, pod: KubeObject): void {
    const key = `${what}/${pod.metadata?.uid}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push(`${what} ${pod.metadata?.name}`);
  }
}

describe('StatefulSets on two nodes', () => {
  let c: MultiNodeCluster;
  let client: KubeClient;
  let timeline: PodTimeline;

  const kubectl = async (args: string[], input?: string) => {
    const out = await c.kubectl(args, { input });
    assert.equal(out.code, 0, `kubectl ${args.join(' ')}: ${out.stderr}`);
    return out.stdout;
  };
  const rolledOut = async () => {
    const out = await c.kubectl(['rollout', 'status', 'statefulset/web', '--timeout=40s'], { timeoutMs: 45_000 });
    assert.equal(out.code, 0, out.stderr);
    return out.stdout;
  };
  const livePods = async () => {
    const list = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: any[] };
    return list.items.filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  };
  const versions = async () => (await livePods()).map((p) => `${p.metadata.name}=${p.spec.containers[0].env[0].value}`);

  before(async () => {
    c = await startMultiNodeCluster({ agents: 2 });
    const cp = c.cluster.controlPlane;
    client = new KubeClient({ server: c.cluster.url, token: cp.adminToken, caPem: cp.caCertPem });
    timeline = new PodTimeline(client, 'app=web');
    await timeline.start();
  });

  after(async () => {
    await timeline?.stop();
    await client?.close();
    await c?.close();
  });

  test('web-0, web-1, web-2 start in order, each once the one before is ready', async () => {
    await kubectl(['apply', '-f', '-'], statefulSet(c.docker.busyboxImage, 'v1'));
    assert.match(await rolledOut(), /partitioned roll out complete: 3 new pods have been updated/);
    assert.deepEqual(timeline.since(0, 'created', 'ready'), ['created web-0', 'ready web-0', 'created web-1', 'ready web-1', 'created web-2', 'ready web-2']);
    assert.match(await kubectl(['get', 'statefulset', 'web', '--no-headers']), /^web\s+3\/3\s/);
    // The agent gives each pod its stable name as hostname.
    assert.equal(await kubectl(['logs', 'web-1']), 'web-1 v1\n');
    const nodes = new Set((await livePods()).map((p) => p.spec.nodeName));
    assert.equal(nodes.size, 2, 'spread over both nodes');
  });

  test('a template change rolls out from the highest ordinal down, one pod at a time', async () => {
    const mark = timeline.entries.length;
    assert.match(await kubectl(['set', 'env', 'statefulset/web', 'VERSION=v2']), /env updated/);
    await rolledOut();
    assert.deepEqual(timeline.since(mark, 'deleting', 'ready'), ['deleting web-2', 'ready web-2', 'deleting web-1', 'ready web-1', 'deleting web-0', 'ready web-0']);
    await eventually(async () => ((await versions()).join() === 'web-0=v2,web-1=v2,web-2=v2' ? true : undefined), 20_000, 'every pod at v2');
    assert.equal(await kubectl(['logs', 'web-0']), 'web-0 v2\n');
    const status = JSON.parse(await kubectl(['get', 'statefulset', 'web', '-o', 'jsonpath={.status}']));
    assert.equal(status.currentRevision, status.updateRevision);
    assert.deepEqual([status.replicas, status.readyReplicas, status.currentReplicas, status.updatedReplicas, status.availableReplicas], [3, 3, 3, 3, 3]);
  });

  test('rollout history lists both revisions and undo brings v1 back as revision 3', async () => {
    assert.match(await kubectl(['rollout', 'history', 'statefulset/web']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.match(await kubectl(['rollout', 'undo', 'statefulset/web']), /statefulset.apps\/web rolled back/);
    await eventually(async () => ((await versions()).join() === 'web-0=v1,web-1=v1,web-2=v1' ? true : undefined), 40_000, 'every pod back at v1');
    await rolledOut();
    assert.match(await kubectl(['rollout', 'history', 'statefulset/web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
  });

  test('scaling to 1 removes web-2 then web-1; scaling back to 3 brings them back in order', async () => {
    let mark = timeline.entries.length;
    await kubectl(['scale', 'statefulset/web', '--replicas=1']);
    await eventually(async () => {
      const all = await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}']);
      return all.trim() === 'web-0' ? true : undefined;
    }, 30_000, 'only web-0 left');
    assert.deepEqual(timeline.since(mark, 'deleting', 'gone'), ['deleting web-2', 'gone web-2', 'deleting web-1', 'gone web-1']);

    mark = timeline.entries.length;
    await kubectl(['scale', 'statefulset/web', '--replicas=3']);
    await rolledOut();
    assert.deepEqual(timeline.since(mark, 'created', 'ready'), ['created web-1', 'ready web-1', 'created web-2', 'ready web-2']);
    assert.deepEqual(await versions(), ['web-0=v1', 'web-1=v1', 'web-2=v1']);
    await kubectl(['delete', 'statefulset', 'web']);
    await eventually(async () => ((await kubectl(['get', 'pods', '-l', 'app=web', '--no-headers'])).trim() === '' ? true : undefined), 30_000, 'the pods of web to go');
  });
});
