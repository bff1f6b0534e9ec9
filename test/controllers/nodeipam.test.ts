// Pod CIDR allocation: one subnet per node from the cluster CIDR, never twice, free again when
// the node goes, remembered across controller restarts, and a warning when none is left.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { pino } from 'pino';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { startControllerManager } from '../../controlplane/controllers/manager.js';
import { CidrSet } from '../../controlplane/controllers/nodeipam/cidr-set.js';
import { nodeIpamController } from '../../controlplane/controllers/nodeipam/controller.js';
import { eventually } from '../helpers/cluster.js';
import { TEST_ELECTION, startControlledCluster } from '../scheduler/controlled-cluster.js';
import type { ControlledCluster } from '../scheduler/controlled-cluster.js';

const nodes = resourceFor('', 'nodes');
const events = resourceFor('', 'events');
type NodeObject = Node & KubeObject;

describe('CidrSet', () => {
  test('numbers the node subnets of the cluster CIDR', () => {
    const set = new CidrSet('10.42.0.0/16', 24);
    assert.equal(set.size, 256);
    assert.equal(set.subnet(0), '10.42.0.0/24');
    assert.equal(set.subnet(255), '10.42.255.0/24');
    assert.equal(set.indexOf('10.42.7.0/24'), 7);
    assert.equal(set.indexOf('10.42.7.128/24'), undefined);
    assert.equal(set.indexOf('10.43.0.0/24'), undefined);
    assert.equal(set.indexOf('10.42.7.0/25'), undefined);
    assert.equal(set.firstFree(new Set([0, 1, 3])), 2);
    assert.equal(new CidrSet('10.1.2.0/23', 24).firstFree(new Set([0, 1])), undefined);
    assert.equal(new CidrSet('10.42.0.5/16', 26).subnet(3), '10.42.0.192/26');
    assert.throws(() => new CidrSet('fd00::/48', 64), /IPv4/);
    assert.throws(() => new CidrSet('10.42.0.0/16', 8), /mask size/);
  });
});

describe('nodeipam controller', () => {
  let t: ControlledCluster;
  before(async () => {
    t = await startControlledCluster([nodeIpamController({ clusterCidr: '10.99.0.0/22', nodeCidrMaskSize: 24 })]);
  });
  after(async () => {
    await t.close();
  });

  const create = (name: string) => t.client.create<KubeObject>(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const cidrOf = (name: string) =>
    eventually(async () => {
      const n = await t.client.get<NodeObject>(nodes, undefined, name);
      return n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR, podCIDRs: n.spec.podCIDRs } : undefined;
    }, 10_000, `a pod CIDR for ${name}`);

  test('each node gets its own subnet, remembered across a restart; exhaustion warns; a freed subnet is reused', async () => {
    await create('n1');
    await create('n2');
    assert.deepEqual(await cidrOf('n1'), { podCIDR: '10.99.0.0/24', podCIDRs: ['10.99.0.0/24'] });
    assert.equal((await cidrOf('n2')).podCIDR, '10.99.1.0/24');

    // A new leader (a restarted controller) derives what is used from the nodes themselves.
    await t.cluster.controlPlane.controllerManager!.stop();
    const restarted = startControllerManager({
      client: t.client,
      controllers: [nodeIpamController({ clusterCidr: '10.99.0.0/22', nodeCidrMaskSize: 24 })],
      logger: pino({ level: 'silent' }),
      election: TEST_ELECTION,
    });
    try {
      await restarted.whenLeading();
      await create('n3');
      await create('n4');
      const got = [(await cidrOf('n3')).podCIDR, (await cidrOf('n4')).podCIDR].sort();
      assert.deepEqual(got, ['10.99.2.0/24', '10.99.3.0/24']);

      await create('n5');
      const warning = await eventually(async () => {
        const list = await t.client.list(events, 'default', { fieldSelector: 'involvedObject.name=n5,reason=CIDRNotAvailable' });
        return list.items[0];
      }, 10_000, 'a CIDRNotAvailable event');
      assert.equal(warning['type'], 'Warning');
      assert.equal(warning['message'], 'Node n5 status is now: CIDRNotAvailable');
      assert.equal((warning['source'] as { component: string }).component, 'cidrAllocator');
      assert.equal((await t.client.get<NodeObject>(nodes, undefined, 'n5')).spec?.podCIDR, undefined);

      await t.client.delete(nodes, undefined, 'n2');
      assert.equal((await cidrOf('n5')).podCIDR, '10.99.1.0/24');
      const all = (await t.client.list<NodeObject>(nodes)).items.map((n) => n.spec?.podCIDR);
      assert.equal(new Set(all).size, all.length);
    } finally {
      await restarted.stop();
    }
  });
});
