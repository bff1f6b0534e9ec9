// The ReplicaSet controller under the real controller-manager runtime: two managers over one
// API server, exactly one leads; when the leader stops the other takes over, and at no moment
// does a ReplicaSet have more pods than it asked for.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { startControllerManager } from '../../controlplane/controllers/manager.js';
import type { ControllerManager } from '../../controlplane/controllers/manager.js';
import { ReplicaSetController } from '../../controlplane/controllers/replicaset/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { adminClient, listPods, sleep } from './workload-harness.js';

/** A Lease far longer than a handover takes: a handover within it shows the Lease was released. */
const ELECTION = { leaseDurationMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 250 };

const replicasets = resourceFor('apps', 'replicasets');

function active(pods: KubeObject[]): number {
  return pods.filter((p) => !p.metadata?.deletionTimestamp).length;
}

describe('ReplicaSet controller across a change of leader', () => {
  let c: TestCluster;
  let client: KubeClient;
  const managers: ControllerManager[] = [];
  before(async () => {
    c = await startTestCluster();
    client = adminClient(c);
    for (const identity of ['manager-a', 'manager-b']) {
      managers.push(startControllerManager({ client, controllers: [new ReplicaSetController()], logger: pino({ level: 'silent' }), identity, election: ELECTION }));
    }
  });
  after(async () => {
    for (const m of managers) await m.stop();
    await client.close();
    await c.close();
  });

  test('exactly one manager acts, the other takes over, and pods never exceed replicas', async () => {
    await Promise.race(managers.map((m) => m.whenLeading()));
    assert.ok(managers.filter((m) => m.isLeader()).length <= 1, 'never two leaders');

    let limit = 5;
    let violation = '';
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = active(await listPods(client, 'default', 'app=ha'));
        if (n > limit) violation ||= `${n} pods while ${limit} were wanted`;
        await sleep(10);
      }
    })();

    await client.create(replicasets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'ha' },
      spec: { replicas: 5, selector: { matchLabels: { app: 'ha' } }, template: { metadata: { labels: { app: 'ha' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await eventually(async () => (active(await listPods(client, 'default', 'app=ha')) === 5 ? true : undefined), 10_000, '5 pods');

    // Under load a term may end and start again: take whoever leads now.
    const leader = await eventually(() => managers.find((m) => m.isLeader()), 10_000, 'a leader');
    const follower = managers.find((m) => m !== leader)!;
    const stoppedAt = Date.now();
    await leader.stop();
    await follower.whenLeading();
    const handover = Date.now() - stoppedAt;
    assert.ok(handover < ELECTION.leaseDurationMs, `took over after ${handover} ms`);

    limit = 8;
    await client.patch(replicasets, 'default', 'ha', { spec: { replicas: 8 } });
    await eventually(async () => (active(await listPods(client, 'default', 'app=ha')) === 8 ? true : undefined), 10_000, '8 pods from the new leader');
    await eventually(async () => ((await client.get(replicasets, 'default', 'ha'))['status'] as any)?.replicas === 8 || undefined, 10_000, 'status from the new leader');
    await sleep(500);
    sampling = false;
    await sampler;
    assert.equal(violation, '');
    assert.equal(active(await listPods(client, 'default', 'app=ha')), 8);
  });
});
