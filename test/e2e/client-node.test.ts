// @kubernetes/client-node 1.4 (the version that runs on Node 20) against skiff server: typed
// list/create/patch, a raw watch and an informer, through the admin kubeconfig as is.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

describe('@kubernetes/client-node against skiff server', () => {
  let c: TestCluster;
  let kc: k8s.KubeConfig;
  before(async () => {
    c = await startTestCluster();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(c.controlPlane.kubeconfigPath);
  });
  after(async () => {
    await c.close();
  });

  test('version, list, create, merge patch, 404 and 409 as ApiException', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.minor, '32');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespaces = await core.listNamespace();
    assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-system'));
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const body: k8s.V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cn', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'cn' } },
        template: { metadata: { labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace: 'default', body });
    assert.equal(created.metadata?.generation, 1);
    await assert.rejects(apps.createNamespacedDeployment({ namespace: 'default', body }), (err: any) => err.code === 409);
    await assert.rejects(apps.readNamespacedDeployment({ name: 'nope', namespace: 'default' }), (err: any) => err.code === 404);
    const patched = await apps.patchNamespacedDeployment(
      { name: 'cn', namespace: 'default', body: { spec: { replicas: 3 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.equal(patched.spec?.replicas, 3);
    const scaled = await apps.readNamespacedDeploymentScale({ name: 'cn', namespace: 'default' });
    assert.equal(scaled.spec?.replicas, 3);
  });

  test('Watch streams events; an informer lists, then follows adds, updates and deletes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { allowWatchBookmarks: true },
      (type: string, obj: k8s.V1ConfigMap) => events.push(`${type}:${obj.metadata?.name}`),
      () => undefined,
    );
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const informed: string[] = [];
    informer.on('add', (obj) => informed.push(`add:${obj.metadata?.name}`));
    informer.on('update', (obj) => informed.push(`update:${obj.metadata?.name}`));
    informer.on('delete', (obj) => informed.push(`delete:${obj.metadata?.name}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf' }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap(
      { name: 'inf', namespace: 'default', body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'inf', namespace: 'default' });
    await eventually(() => (informed.includes('delete:inf') && events.includes('DELETED:inf') ? true : undefined), 10_000, 'client-node events');
    assert.deepEqual(events.filter((e) => e.endsWith(':inf')), ['ADDED:inf', 'MODIFIED:inf', 'DELETED:inf']);
    assert.deepEqual(informed.filter((e) => e.endsWith(':inf')), ['add:inf', 'update:inf', 'delete:inf']);
    assert.deepEqual(informer.list().filter((cm) => cm.metadata?.name === 'inf'), []);
    await informer.stop();
    req.abort();
  });
});
