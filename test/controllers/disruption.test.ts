// The disruption controller and `kubectl drain` against a real API server: a PodDisruptionBudget
// applied with kubectl gets its status from a Deployment's pods (kubectl get pdb shows it), drain
// cannot evict while the budget allows no disruption and says why, and once minAvailable is
// lowered drain evicts. The test plays the scheduler and the agents: it binds new pods to the
// node it is told, marks them Ready, and confirms the deletion of terminating pods.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { DeploymentController } from '../../controlplane/controllers/deployment/controller.js';
import { DisruptionController } from '../../controlplane/controllers/disruption/controller.js';
import { ReplicaSetController } from '../../controlplane/controllers/replicaset/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { bindPod, createNode, listPods, podsResource, setPodStatus, sleep, startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const deployments = resourceFor('apps', 'deployments');
const pdbs = resourceFor('policy', 'poddisruptionbudgets');
type Budget = PodDisruptionBudget & KubeObject;

const PDB_MANIFEST = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: web
`;

describe('disruption controller and kubectl drain', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;
  /** Where the fake scheduler binds new pods. */
  let targetNode = 'node-a';
  const stopFakeNodes = new AbortController();
  let fakeNodes: Promise<void> | undefined;

  /** Binds unbound pods, makes bound ones Ready, and confirms deletions, as scheduler and agents would. */
  async function playNodes(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      for (const pod of await listPods(client, 'default', 'app=web').catch(() => [])) {
        const name = pod.metadata?.name ?? '';
        const spec = pod['spec'] as { nodeName?: string };
        const ready = (pod['status'] as { conditions?: { type: string; status: string }[] }).conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
        const step = pod.metadata?.deletionTimestamp
          ? client.delete(podsResource, 'default', name, { gracePeriodSeconds: 0 })
          : !spec.nodeName
            ? bindPod(client, 'default', name, targetNode)
            : !ready
              ? setPodStatus(client, 'default', name)
              : undefined;
        await step?.catch(() => undefined);
      }
      await sleep(100);
    }
  }

  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new ReplicaSetController(), new DeploymentController(), new DisruptionController()]);
    client = run.client;
    await createNode(client, 'node-a');
    await createNode(client, 'node-b');
    fakeNodes = playNodes(stopFakeNodes.signal);
  });
  after(async () => {
    stopFakeNodes.abort();
    await fakeNodes;
    await run?.stop();
    await c?.close();
  });

  const budget = () => client.get<Budget>(pdbs, 'default', 'web');

  test('kubectl apply of a budget; its status follows the Deployment’s ready pods', async () => {
    await client.create(deployments, 'default', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    });
    const applied = await c.kubectl(['apply', '-f', '-'], { input: PDB_MANIFEST });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /poddisruptionbudget.policy\/web created/);
    const status = await eventually(async () => {
      const s = (await budget()).status;
      return s?.currentHealthy === 2 && s.observedGeneration === 1 ? s : undefined;
    }, 20_000, 'the budget to see two healthy pods');
    assert.deepEqual({ expected: status.expectedPods, desired: status.desiredHealthy, allowed: status.disruptionsAllowed }, { expected: 2, desired: 2, allowed: 0 });
    assert.deepEqual(status.conditions?.map((x) => [x.type, x.status, x.reason]), [['DisruptionAllowed', 'False', 'InsufficientPods']]);
    const listed = await c.kubectl(['get', 'pdb']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n/);
    assert.match(listed.stdout, /\nweb\s+2\s+N\/A\s+0\s+\S+\n/);
    const described = await c.kubectl(['describe', 'pdb', 'web']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /Min available:\s+2\n/);
    assert.match(described.stdout, /Allowed disruptions:\s+0\n/);
  });

  test('drain cannot evict while the budget allows no disruption', async () => {
    const drained = await c.kubectl(['drain', 'node-a', '--timeout=5s'], { timeoutMs: 30_000 });
    assert.notEqual(drained.code, 0);
    assert.match(drained.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
    assert.equal((await listPods(client, 'default', 'app=web')).filter((p) => !p.metadata?.deletionTimestamp).length, 2);
  });

  test('after lowering minAvailable, drain evicts the node’s pods one disruption at a time', async () => {
    targetNode = 'node-b';
    const patched = await c.kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":1}}']);
    assert.equal(patched.code, 0, patched.stderr);
    await eventually(async () => ((await budget()).status?.disruptionsAllowed === 1 ? true : undefined), 10_000, 'one disruption allowed');
    const drained = await c.kubectl(['drain', 'node-a', '--timeout=40s'], { timeoutMs: 60_000 });
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /evicted/);
    assert.match(drained.stdout, /node\/node-a drained/);
    const pods = await listPods(client, 'default', 'app=web');
    assert.ok(pods.every((p) => (p['spec'] as { nodeName?: string }).nodeName === 'node-b'));
  });
});
