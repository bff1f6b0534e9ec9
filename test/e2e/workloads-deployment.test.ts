// Deployments on a real two-node cluster, driven with the real kubectl: a control plane with the
// scheduler and controllers, two `skiff agent` processes on the one Docker engine, images built
// locally. The tests share the cluster and run in order: spread and scale, a rolling update that
// keeps enough pods ready, history and undo, deletion, and last the loss of a node (kill -9).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/cluster.js';
import type { MultiNodeCluster } from '../helpers/multinode.js';
import { startMultiNodeCluster } from '../helpers/multinode.js';
import { sampleReadyPods } from '../helpers/ready-pods.js';

const GRACE_PERIOD_MS = 5000;
const TOLERATION_SECONDS = 3;

interface PodRow {
  name: string;
  ready: string;
  status: string;
  ip: string;
  node: string;
}

/**
 * `kubectl get pods -o wide --no-headers` as rows: NAME READY STATUS RESTARTS AGE IP NODE ...
 * (RESTARTS may read `1 (5s ago)`).
 */
function podRows(stdout: string): PodRow[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const cols = /^(\S+)\s+(\S+)\s+(\S+)\s+\d+(?: \([^)]*\))?\s+\S+\s+(\S+)\s+(\S+)/.exec(line.trim());
      if (!cols) throw new Error(`unexpected kubectl get pods line: ${line}`);
      return { name: cols[1]!, ready: cols[2]!, status: cols[3]!, ip: cols[4]!, node: cols[5]! };
    });
}

function isRunningWithIp(row: PodRow): boolean {
  return row.ready === '1/1' && row.status === 'Running' && /^\d+\.\d+\.\d+\.\d+$/.test(row.ip);
}

function deployment(name: string, image: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'web',
              image,
              imagePullPolicy: 'Never',
              // Ready only a second after it starts, so a rollout that ignored readiness would
              // take old pods away before the new ones could serve.
              command: ['sh', '-c', 'cat /etc/skiff-version; sleep 1; touch /tmp/ready; exec sleep 3600'],
              readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

describe('Deployments on two nodes', () => {
  let c: MultiNodeCluster;
  const tag = randomBytes(3).toString('hex');
  const v1 = `skiff-test/web:v1-${tag}`;
  const v2 = `skiff-test/web:v2-${tag}`;
  let firstHash = '';

  const kubectl = async (args: string[], input?: string) => {
    const out = await c.kubectl(args, { input });
    assert.equal(out.code, 0, `kubectl ${args.join(' ')}: ${out.stderr}`);
    return out.stdout;
  };

  /** Pods of `app` that are not terminating. */
  const livePods = async (app: string) => {
    const out = await kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'wide', '--no-headers']);
    return podRows(out).filter((row) => row.status !== 'Terminating');
  };

  const waitForRunning = (app: string, count: number, what: string) =>
    eventually(async () => {
      const rows = await livePods(app);
      return rows.length === count && rows.every(isRunningWithIp) ? rows : undefined;
    }, 60_000, what);

  /** The pods of `app` that are not terminating, as JSON. */
  const livePodObjects = async (app: string) => {
    const list = JSON.parse(await kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'json'])) as { items: any[] };
    return list.items.filter((p) => !p.metadata.deletionTimestamp);
  };

  const podImages = async (app: string) => (await livePodObjects(app)).map((p) => p.spec.containers[0].image as string);

  before(async () => {
    c = await startMultiNodeCluster({ agents: 2, nodeMonitorGracePeriodMs: GRACE_PERIOD_MS, tolerationSeconds: TOLERATION_SECONDS });
    await c.buildImage(v1, { '/etc/skiff-version': 'v1\n' });
    await c.buildImage(v2, { '/etc/skiff-version': 'v2\n' });
  });

  after(async () => {
    await c?.close();
  });

  test('3 replicas run spread over both nodes, and scale to 4 and back to 3', async () => {
    await kubectl(['apply', '-f', '-'], deployment('web', v1, 3));
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "web" successfully rolled out/);
    const rows = await waitForRunning('web', 3, '3 pods of web to run');
    const nodes = new Set(rows.map((r) => r.node));
    assert.deepEqual([...nodes].sort(), c.agents.map((a) => a.nodeName).sort(), `pods spread over both nodes: ${JSON.stringify(rows)}`);
    assert.equal(new Set(rows.map((r) => r.ip)).size, 3, 'every pod has its own IP');
    firstHash = (await kubectl(['get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.labels.pod-template-hash}'])).trim();
    assert.ok(firstHash);

    assert.match(await kubectl(['scale', 'deployment/web', '--replicas=4']), /deployment.apps\/web scaled/);
    const four = await waitForRunning('web', 4, 'web to run 4 pods');
    assert.equal(new Set(four.map((r) => r.node)).size, 2);
    await eventually(async () => ((await kubectl(['get', 'deployment', 'web', '--no-headers'])).match(/^web\s+4\/4\s+4\s+4\s/) ? true : undefined), 30_000, 'web 4/4');

    await kubectl(['scale', 'deployment/web', '--replicas=3']);
    await eventually(async () => {
      // The scaled-down pod is gone from the API, not only terminating.
      const all = podRows(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'wide', '--no-headers']));
      return all.length === 3 && all.every(isRunningWithIp) ? true : undefined;
    }, 30_000, 'web back to 3 pods');
    assert.match(await kubectl(['get', 'deployment', 'web', '--no-headers']), /^web\s+3\/3\s+3\s+3\s/);
  });

  test('a new image rolls out with never fewer than replicas − maxUnavailable pods ready', async () => {
    const sampler = await sampleReadyPods(c.cluster, 'default', 'app=web');
    assert.equal(sampler.current(), 3);
    let history: number[];
    try {
      assert.match(await kubectl(['set', 'image', 'deployment/web', `web=${v2}`]), /image updated/);
      const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /deployment "web" successfully rolled out/);
    } finally {
      history = sampler.history();
      await sampler.stop();
    }
    // replicas 3, maxUnavailable 1: at least 2 ready at every moment; and the old pods did go.
    assert.ok(Math.min(...history) >= 2, `ready pods during the rollout: ${history.join(' → ')}`);
    assert.ok(history.length > 1, `the rollout changed the ready pods: ${history.join(' → ')}`);

    const rows = await waitForRunning('web', 3, 'the new pods to run');
    assert.deepEqual(await podImages('web'), [v2, v2, v2]);
    const logs = await kubectl(['logs', rows[0]!.name]);
    assert.equal(logs, 'v2\n', 'the pod runs the new image');
    assert.match(await kubectl(['get', 'deployment', 'web', '--no-headers']), /^web\s+3\/3\s+3\s+3\s/);
  });

  test('rollout history lists the revisions and undo restores the old template as a new revision', async () => {
    const history = await kubectl(['rollout', 'history', 'deployment/web']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);

    assert.match(await kubectl(['rollout', 'undo', 'deployment/web']), /deployment.apps\/web rolled back/);
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.equal(status.code, 0, status.stderr);
    await waitForRunning('web', 3, 'the restored pods to run');
    assert.deepEqual(await podImages('web'), [v1, v1, v1]);
    const rows = await livePods('web');
    assert.equal(await kubectl(['logs', rows[0]!.name]), 'v1\n', 'the pod runs the old image again');

    // Revision 1's ReplicaSet is back as revision 3.
    assert.equal(await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}']), '3');
    const rs = JSON.parse(await kubectl(['get', 'rs', '-l', 'app=web', '-o', 'json'])) as { items: any[] };
    const current = rs.items.find((r) => r.spec.replicas === 3);
    assert.equal(current?.metadata.labels['pod-template-hash'], firstHash, 'the first ReplicaSet is reused');
    assert.equal(current?.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.match(await kubectl(['rollout', 'history', 'deployment/web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
  });

  test('deleting the Deployment removes its ReplicaSets, pods and containers', async () => {
    const containersOfWeb = async () => {
      const found: string[] = [];
      for (const agent of c.agents) {
        const containers = await c.docker.docker.listContainers({ all: true, filters: { label: [`skiff.node=${agent.nodeName}`] } });
        for (const ct of containers) if ((ct.Labels['io.kubernetes.pod.name'] ?? '').startsWith('web-')) found.push(ct.Names[0] ?? ct.Id);
      }
      return found;
    };
    assert.equal((await livePods('web')).length, 3);
    // A sandbox and an app container per pod.
    assert.ok((await containersOfWeb()).length >= 6);
    await kubectl(['delete', 'deployment', 'web']);
    await eventually(async () => {
      const left = await c.kubectl(['get', 'rs,pods', '-l', 'app=web', '--no-headers']);
      return left.code === 0 && left.stdout.trim() === '' ? true : undefined;
    }, 30_000, 'the ReplicaSets and pods of web to go');
    await eventually(async () => ((await containersOfWeb()).length === 0 ? true : undefined), 30_000, 'the containers of web to be removed');
  });

  test('a node killed with -9 becomes Unknown and its pods come back on the other node', async () => {
    await kubectl(['apply', '-f', '-'], deployment('survivor', c.docker.busyboxImage, 3));
    const rows = await waitForRunning('survivor', 3, 'survivor to run');
    const victim = c.agents.find((a) => rows.some((r) => r.node === a.nodeName))!;
    const other = c.agents.find((a) => a !== victim)!;
    assert.equal(new Set(rows.map((r) => r.node)).size, 2, 'survivor is spread over both nodes');
    const victimPods = rows.filter((r) => r.node === victim.nodeName).map((r) => r.name);

    const killedAt = Date.now();
    await victim.kill9();
    const unknownAfterMs = await eventually(async () => {
      const ready = await kubectl(['get', 'node', victim.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return ready === 'Unknown' ? Date.now() - killedAt : undefined;
    }, 30_000, `${victim.nodeName} to become Unknown`);
    // The last renewal was at most 0.5 s before the kill; the controller checks every 0.5 s.
    assert.ok(unknownAfterMs >= GRACE_PERIOD_MS - 1000, `Unknown after ${unknownAfterMs} ms: not before the grace period`);
    // Slack for the controller's check and for kubectl's polling on a busy machine.
    assert.ok(unknownAfterMs <= GRACE_PERIOD_MS + 4000, `Unknown after ${unknownAfterMs} ms: soon after the grace period`);
    assert.match(await kubectl(['get', 'node', victim.nodeName, '--no-headers']), /\sNotReady\s/);
    const taints = JSON.parse(await kubectl(['get', 'node', victim.nodeName, '-o', 'jsonpath={.spec.taints}'])) as { key: string; effect: string; timeAdded?: string }[];
    const noExecute = taints.find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
    assert.ok(noExecute?.timeAdded, `unreachable NoExecute taint: ${JSON.stringify(taints)}`);

    const replaced = await eventually(async () => {
      const live = await livePods('survivor');
      return live.length === 3 && live.every((r) => r.node === other.nodeName && isRunningWithIp(r)) ? live : undefined;
    }, 60_000, 'survivor to run 3 pods on the other node');
    assert.ok(victimPods.every((name) => !replaced.some((r) => r.name === name)));
    // Evicted after the toleration, not at once: the replacements are younger than taint + toleration.
    const taintedAt = Date.parse(noExecute.timeAdded);
    const newest = Math.max(...(await livePodObjects('survivor')).map((p) => Date.parse(p.metadata.creationTimestamp)));
    assert.ok(newest - taintedAt >= (TOLERATION_SECONDS - 1) * 1000, `replacement created ${newest - taintedAt} ms after the taint`);

    const status = await c.kubectl(['rollout', 'status', 'deployment/survivor', '--timeout=30s'], { timeoutMs: 40_000 });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(await kubectl(['get', 'deployment', 'survivor', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}']), 'True');
    assert.equal(await kubectl(['get', 'deployment', 'survivor', '-o', 'jsonpath={.status.availableReplicas}']), '3');

    // A deleted node's pods are cleaned up; the dead agent's containers are ours to remove.
    await kubectl(['delete', 'node', victim.nodeName]);
    await eventually(async () => {
      const all = podRows(await kubectl(['get', 'pods', '-l', 'app=survivor', '-o', 'wide', '--no-headers']));
      return all.length === 3 && all.every((r) => r.node === other.nodeName) ? true : undefined;
    }, 30_000, "the dead node's pods to be deleted");
    await c.removeNodeContainers(victim.nodeName);
    await kubectl(['delete', 'deployment', 'survivor']);
  });
});
