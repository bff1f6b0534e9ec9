// Discovery in both forms kubectl 1.32 understands, and the OpenAPI documents it downloads.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('discovery and OpenAPI', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.close();
  });

  test('aggregated discovery with its exact content type lists every group, resource and subresource', async () => {
    const core = await c.api('GET', '/api', { headers: { accept: AGGREGATED_ACCEPT } });
    assert.equal(core.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(core.body.kind, 'APIGroupDiscoveryList');
    const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
    assert.deepEqual(pods.shortNames, ['po']);
    // kubectl get limits / kubectl get quota resolve through these short names.
    const coreResources = core.body.items[0].versions[0].resources;
    assert.deepEqual(coreResources.find((r: any) => r.resource === 'limitranges').shortNames, ['limits']);
    const quotas = coreResources.find((r: any) => r.resource === 'resourcequotas');
    assert.deepEqual(quotas.shortNames, ['quota']);
    assert.deepEqual(quotas.subresources.map((s: any) => s.subresource), ['status']);
    assert.equal(pods.scope, 'Namespaced');
    assert.deepEqual(pods.subresources.map((s: any) => s.subresource).sort(), ['attach', 'binding', 'eviction', 'exec', 'log', 'portforward', 'status']);
    // kubectl drain evicts (rather than deletes) when discovery lists this subresource.
    const eviction = pods.subresources.find((s: any) => s.subresource === 'eviction');
    assert.deepEqual(eviction.responseKind, { group: 'policy', version: 'v1', kind: 'Eviction' });
    const groups = await c.api('GET', '/apis', { headers: { accept: AGGREGATED_ACCEPT } });
    const names = groups.body.items.map((g: any) => g.metadata.name);
    for (const g of ['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'policy']) assert.ok(names.includes(g), g);
    const apps = groups.body.items.find((g: any) => g.metadata.name === 'apps');
    const deployments = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
    const scale = deployments.subresources.find((s: any) => s.subresource === 'scale');
    assert.deepEqual(scale.responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });

  test('legacy discovery for clients that ask for plain JSON', async () => {
    const versions = await c.api('GET', '/api');
    assert.equal(versions.body.kind, 'APIVersions');
    assert.deepEqual(versions.body.versions, ['v1']);
    const groups = await c.api('GET', '/apis');
    assert.equal(groups.body.kind, 'APIGroupList');
    const appsGroup = await c.api('GET', '/apis/apps');
    assert.equal(appsGroup.body.preferredVersion.groupVersion, 'apps/v1');
    const list = await c.api('GET', '/apis/apps/v1');
    assert.equal(list.body.groupVersion, 'apps/v1');
    const scale = list.body.resources.find((r: any) => r.name === 'deployments/scale');
    assert.equal(scale.group, 'autoscaling');
    assert.equal(scale.kind, 'Scale');
    const core = await c.api('GET', '/api/v1');
    assert.ok(core.body.resources.some((r: any) => r.name === 'pods/log'));
    assert.equal((await c.api('GET', '/apis/example.com/v1')).status, 404);
  });

  test('/openapi/v3 lists a document per group-version; PATCH operations declare fieldValidation', async () => {
    const index = await c.api('GET', '/openapi/v3');
    const url = index.body.paths['apis/apps/v1'].serverRelativeURL;
    assert.match(url, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]+$/i);
    const doc = await c.api('GET', url);
    const item = doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
    assert.ok(item.patch.parameters.some((p: any) => p.name === 'fieldValidation'));
    const explain = await c.kubectl(['explain', 'deployment.spec.strategy']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /rollingUpdate/);
  });
});
