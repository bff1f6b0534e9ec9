// A test cluster whose control plane runs the given controllers (leader-elected, TEST_ELECTION),
// an admin client for the test, and hollow nodes. Everything goes with `close()`.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { ControlPlaneConfig } from '../../controlplane/controlplane.js';
import type { Controller } from '../../controlplane/controllers/context.js';
import type { LeaderElectionConfig } from '../../controlplane/leaderelection/config.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { pod } from './fixtures.js';
import type { PodShape } from './fixtures.js';
import { HollowNodes } from './hollow-nodes.js';

/**
 * Leader election for tests: a candidate polls every 100 ms, so a leader that stops (and releases
 * the Lease) is replaced at once; the 2 s renew deadline keeps a leader through the stalls of a
 * loaded CI machine (with 400 ms, one stall ended a term in the middle of a test). A test that
 * asserts a handover faster than `leaseDurationMs` shows the Lease was released, not expired.
 */
export const TEST_ELECTION: LeaderElectionConfig = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 100 };

export interface ControlledCluster {
  cluster: TestCluster;
  client: KubeClient;
  nodes: HollowNodes;
  close(): Promise<void>;
}

export function adminClient(cluster: TestCluster): KubeClient {
  return new KubeClient({ server: cluster.url, token: cluster.controlPlane.adminToken, caPem: cluster.controlPlane.caCertPem });
}

export async function startControlledCluster(controllers: Controller[], config: Partial<ControlPlaneConfig> = {}): Promise<ControlledCluster> {
  const cluster = await startTestCluster({ controllerManager: { only: controllers, election: TEST_ELECTION }, ...config });
  await cluster.controlPlane.controllerManager!.whenLeading();
  const client = adminClient(cluster);
  const nodes = new HollowNodes(client);
  return {
    cluster,
    client,
    nodes,
    async close() {
      nodes.close();
      await client.close();
      await cluster.close();
    },
  };
}

const pods = resourceFor('', 'pods');

/** Creates a pod of the fixtures' shape through the API (which gives it its uid). */
export function createPod(client: KubeClient, name: string, shape: PodShape = {}): Promise<Pod & KubeObject> {
  const p = pod(name, shape) as Pod & KubeObject;
  p.metadata = { ...p.metadata, uid: undefined };
  return client.create(pods, shape.namespace ?? 'default', p);
}

/** Waits until the pod is bound; returns its node. */
export function boundNode(client: KubeClient, name: string, namespace = 'default', timeoutMs = 10_000): Promise<string> {
  return eventually(async () => {
    const pod = await client.get<KubeObject & { spec?: { nodeName?: string } }>(pods, namespace, name);
    return pod.spec?.nodeName || undefined;
  }, timeoutMs, `pod ${namespace}/${name} to be bound`);
}
