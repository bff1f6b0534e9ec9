// Namespace deletion: everything inside is deleted, the namespace reports what remains in its
// conditions, and once empty it is finalized and goes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { conditionsFor, namespaceController } from '../../controlplane/controllers/namespace/controller.js';
import { eventually } from '../helpers/cluster.js';
import { startControlledCluster } from '../scheduler/controlled-cluster.js';
import type { ControlledCluster } from '../scheduler/controlled-cluster.js';

const namespaces = resourceFor('', 'namespaces');
const configmaps = resourceFor('', 'configmaps');
const pods = resourceFor('', 'pods');
const deployments = resourceFor('apps', 'deployments');
type NamespaceObject = Namespace & KubeObject;

describe('namespace conditions', () => {
  test('report remaining content and finalizers as Kubernetes words them', () => {
    const conditions = conditionsFor({ resources: new Map([['pods.', 2], ['deployments.apps', 1]]), finalizers: new Map([['example.com/hold', 1]]), errors: [] });
    const byType = Object.fromEntries(conditions.map((c) => [c.type, c]));
    assert.equal(byType['NamespaceContentRemaining']?.message, 'Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances');
    assert.equal(byType['NamespaceFinalizersRemaining']?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    assert.equal(byType['NamespaceDeletionContentFailure']?.status, 'False');
    const done = conditionsFor({ resources: new Map(), finalizers: new Map(), errors: [] });
    assert.equal(done.find((c) => c.type === 'NamespaceContentRemaining')?.reason, 'ContentRemoved');
  });
});

describe('namespace controller', () => {
  let t: ControlledCluster;
  before(async () => {
    t = await startControlledCluster([namespaceController()]);
  });
  after(async () => {
    await t.close();
  });

  test('deleting a namespace removes its content, then the namespace', async () => {
    await t.client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await t.client.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' } });
    await t.client.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await t.client.create(pods, 'doomed', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await t.client.create(deployments, 'doomed', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const deleted = await t.cluster.kubectl(['delete', 'namespace', 'doomed', '--wait=false']);
    assert.equal(deleted.code, 0, deleted.stderr);

    // Everything goes but the ConfigMap held by its finalizer; the namespace says so.
    const ns = await eventually(async () => {
      const n = await t.client.get<NamespaceObject>(namespaces, undefined, 'doomed');
      const remaining = n.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining');
      return remaining?.message === 'Some resources are remaining: configmaps. has 1 resource instances' ? n : undefined;
    }, 10_000, 'the namespace to report the held ConfigMap');
    assert.equal(ns.status?.phase, 'Terminating');
    assert.equal(
      ns.status?.conditions?.find((c) => c.type === 'NamespaceFinalizersRemaining')?.message,
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    assert.deepEqual((await t.client.list(pods, 'doomed')).items, []);
    assert.deepEqual((await t.client.list(deployments, 'doomed')).items, []);
    assert.deepEqual((await t.client.list(configmaps, 'doomed')).items.map((c) => c.metadata?.name), ['held']);
    // Nothing new may be created in a terminating namespace (NamespaceLifecycle admission).
    await assert.rejects(
      t.client.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }),
      (err: unknown) => err instanceof StatusError && err.code === 403 && /unable to create new content in namespace doomed because it is being terminated/.test(err.message),
    );

    const held = await t.client.get(configmaps, 'doomed', 'held');
    await t.client.patch(configmaps, 'doomed', 'held', { metadata: { finalizers: null, resourceVersion: held.metadata?.resourceVersion } });
    await eventually(
      async () => t.client.get(namespaces, undefined, 'doomed').then(() => undefined, (err: unknown) => (isNotFound(err) ? true : undefined)),
      10_000,
      'the namespace to go',
    );
    await assert.rejects(
      t.client.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } }),
      (err: unknown) => isNotFound(err) && /namespaces "doomed" not found/.test((err as Error).message),
    );
  });
});
