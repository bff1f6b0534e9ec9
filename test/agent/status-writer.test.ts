// The agent's pod status writes against a real API server: a status computed from an older copy
// of the pod keeps the conditions others set meanwhile (merged by type, as the kubelet's
// strategic patches do), and the agent's IP lists replace the stored ones instead of growing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import type { KubeClient } from '../../api/client.js';
import { PodStatusWriter } from '../../agent/status/writer.js';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { adminClient, podsResource } from '../controllers/workload-harness.js';

type PodObject = Pod & KubeObject;

describe('agent pod status writes', () => {
  let c: TestCluster;
  let client: KubeClient;
  let writer: PodStatusWriter;

  before(async () => {
    c = await startTestCluster();
    client = adminClient(c);
    writer = new PodStatusWriter(client);
  });
  after(async () => {
    await client?.close();
    await c?.close();
  });

  const running = (ip: string, ready: 'True' | 'False'): PodStatus => ({
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    hostIP: '192.168.1.10',
    hostIPs: [{ ip: '192.168.1.10' }],
    conditions: [
      { type: 'Ready', status: ready, lastTransitionTime: '2026-01-01T12:00:00Z' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T12:00:00Z' },
    ],
  });

  test('conditions others own survive a status computed from an older copy; IP lists are replaced', async () => {
    const created = await client.create<PodObject>(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'written' },
      spec: { containers: [{ name: 'main', image: 'busybox' }], readinessGates: [{ conditionType: 'example.com/gate' }] },
    });
    assert.equal(await writer.write(created, running('10.42.0.5', 'False')), true);
    const copy = await client.get<PodObject>(podsResource, 'default', 'written');
    // Another component (a readiness gate's controller) sets its condition after the agent's read.
    await client.patch(podsResource, 'default', 'written', { status: { conditions: [{ type: 'example.com/gate', status: 'True' }] } }, 'strategic', { subresource: 'status' });
    // The sandbox was recreated with another IP; the agent still holds its older copy.
    assert.equal(await writer.write(copy, running('10.42.0.9', 'True')), true);
    const stored = (await client.get<PodObject>(podsResource, 'default', 'written')).status!;
    assert.deepEqual(stored.conditions?.map((x) => `${x.type}=${x.status}`).sort(), ['PodScheduled=True', 'Ready=True', 'example.com/gate=True']);
    assert.deepEqual(stored.podIPs, [{ ip: '10.42.0.9' }]);
    assert.equal(stored.podIP, '10.42.0.9');
    assert.deepEqual(stored.hostIPs, [{ ip: '192.168.1.10' }]);
  });
});
