// The EndpointSlice and Endpoints controllers against a real API server: slices and the legacy
// Endpoints follow pod readiness and termination, resolve named target ports per pod, split at
// maxEndpointsPerSlice, keep a placeholder when empty, and leave Services without a selector
// alone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/objects.js';
import { EndpointsController } from '../../controlplane/controllers/endpointslice/endpoints-controller.js';
import { EndpointSliceController } from '../../controlplane/controllers/endpointslice/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { bindPod, createNode, podsResource, setPodStatus, sleep, startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const services = resourceFor('', 'services');
const slicesResource = resourceFor('discovery.k8s.io', 'endpointslices');
const endpointsResource = resourceFor('', 'endpoints');

async function slicesOf(client: KubeClient, service: string): Promise<any[]> {
  return (await client.list(slicesResource, 'default', { labelSelector: `kubernetes.io/service-name=${service}` })).items as any[];
}

async function endpointsOf(client: KubeClient, service: string): Promise<any | undefined> {
  try {
    return await client.get(endpointsResource, 'default', service);
  } catch {
    return undefined;
  }
}

async function runPod(client: KubeClient, name: string, labels: Record<string, string>, options: { ready?: boolean; ip: string; ports?: unknown[] }): Promise<void> {
  await client.create(podsResource, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'c', image: 'busybox', ports: options.ports ?? [] }] },
  });
  await bindPod(client, 'default', name, 'node-a');
  await setPodStatus(client, 'default', name, { ready: options.ready ?? true, ip: options.ip });
}

function endpointSummary(slices: any[]): Record<string, { ready: boolean; serving: boolean; terminating: boolean; ports: string }> {
  const out: Record<string, any> = {};
  for (const s of slices) {
    for (const e of s.endpoints ?? []) {
      out[e.targetRef.name] = {
        ...e.conditions,
        ports: (s.ports ?? []).map((p: any) => `${p.name}:${p.port}`).join(','),
      };
    }
  }
  return out;
}

describe('EndpointSlice and Endpoints controllers', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;
  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new EndpointSliceController({ maxEndpointsPerSlice: 3 }), new EndpointsController()]);
    client = run.client;
    await createNode(client, 'node-a', { labels: { 'topology.kubernetes.io/zone': 'zone-1' } });
  });
  after(async () => {
    await run.stop();
    await c.close();
  });

  test('a Service gets a slice with its ready pods, and the Endpoints object', async () => {
    await runPod(client, 'web-1', { app: 'web' }, { ip: '10.42.0.11' });
    await runPod(client, 'web-2', { app: 'web' }, { ip: '10.42.0.12', ready: false });
    const svc: KubeObject = await client.create<KubeObject>(services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { team: 'a' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const [slice] = await eventually(async () => {
      const list = await slicesOf(client, 'web');
      return list.length === 1 && list[0].endpoints?.length === 2 ? list : undefined;
    }, 10_000, 'one slice with two endpoints');
    assert.match(slice.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(slice.addressType, 'IPv4');
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata.labels['team'], 'a');
    assert.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const web1 = slice.endpoints.find((e: any) => e.targetRef.name === 'web-1');
    assert.deepEqual(web1.addresses, ['10.42.0.11']);
    assert.deepEqual(web1.conditions, { ready: true, serving: true, terminating: false });
    assert.equal(web1.nodeName, 'node-a');
    assert.equal(web1.zone, 'zone-1');
    assert.equal(web1.hints, undefined);
    assert.equal(web1.targetRef.kind, 'Pod');
    const web2 = slice.endpoints.find((e: any) => e.targetRef.name === 'web-2');
    assert.deepEqual(web2.conditions, { ready: false, serving: false, terminating: false });

    const ep = await eventually(() => endpointsOf(client, 'web'), 10_000, 'Endpoints');
    assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
    assert.deepEqual(ep.subsets, [
      {
        addresses: [{ ip: '10.42.0.11', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: web1.targetRef.uid } }],
        notReadyAddresses: [{ ip: '10.42.0.12', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-2', uid: web2.targetRef.uid } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  test('readiness changes and termination are followed; a terminating pod stays with ready=false', async () => {
    await setPodStatus(client, 'default', 'web-2', { ready: true, ip: '10.42.0.12' });
    await eventually(async () => (endpointSummary(await slicesOf(client, 'web'))['web-2']?.ready ? true : undefined), 10_000, 'web-2 ready');
    await eventually(async () => ((await endpointsOf(client, 'web'))?.subsets?.[0]?.addresses?.length === 2 ? true : undefined), 10_000, 'two ready addresses');

    // web-1 is bound to a node, so deleting it is graceful: it terminates first.
    await client.delete(podsResource, 'default', 'web-1');
    const summary = await eventually(async () => {
      const s = endpointSummary(await slicesOf(client, 'web'));
      return s['web-1']?.terminating ? s : undefined;
    }, 10_000, 'web-1 terminating');
    assert.deepEqual(summary['web-1'], { ready: false, serving: true, terminating: true, ports: 'http:8080' });
    const ep = await eventually(async () => {
      const e = await endpointsOf(client, 'web');
      return e?.subsets?.[0]?.addresses?.length === 1 ? e : undefined;
    }, 10_000, 'terminating pod left out of Endpoints');
    assert.equal(ep.subsets[0].addresses[0].targetRef.name, 'web-2');
    assert.equal(ep.subsets[0].notReadyAddresses, undefined);

    await client.delete(podsResource, 'default', 'web-1', { gracePeriodSeconds: 0 });
    await eventually(async () => (Object.keys(endpointSummary(await slicesOf(client, 'web'))).join() === 'web-2' ? true : undefined), 10_000, 'web-1 gone');
  });

  test('named target ports are resolved per pod; pods without the port are left out for it', async () => {
    await runPod(client, 'api-a', { app: 'api' }, { ip: '10.42.0.21', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] });
    await runPod(client, 'api-b', { app: 'api' }, { ip: '10.42.0.22', ports: [{ name: 'http', containerPort: 8081 }] });
    await client.create(services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api' },
      spec: {
        selector: { app: 'api' },
        ports: [
          { name: 'http', port: 80, targetPort: 'http' },
          { name: 'metrics', port: 9090, targetPort: 'metrics' },
        ],
      },
    });
    const summary = await eventually(async () => {
      const s = endpointSummary(await slicesOf(client, 'api'));
      return Object.keys(s).length === 2 ? s : undefined;
    }, 10_000, 'both pods');
    assert.equal(summary['api-a']!.ports, 'http:8080,metrics:9090');
    assert.equal(summary['api-b']!.ports, 'http:8081', 'api-b has no metrics port');
    assert.equal((await slicesOf(client, 'api')).length, 2, 'one slice per port set');
    const ep = await eventually(async () => {
      const e = await endpointsOf(client, 'api');
      return e?.subsets?.length === 2 ? e : undefined;
    }, 10_000, 'two subsets');
    const bySet = Object.fromEntries(ep.subsets.map((s: any) => [s.ports.map((p: any) => `${p.name}:${p.port}`).join(','), s.addresses.map((a: any) => a.targetRef.name)]));
    assert.deepEqual(bySet, { 'http:8080,metrics:9090': ['api-a'], 'http:8081': ['api-b'] });
  });

  test('slices split at maxEndpointsPerSlice; an empty Service keeps a placeholder slice', async () => {
    for (let i = 0; i < 7; i++) await runPod(client, `many-${i}`, { app: 'many' }, { ip: `10.42.1.${i + 1}` });
    await client.create(services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'many' },
      spec: { selector: { app: 'many' }, ports: [{ port: 80 }] },
    });
    const slices = await eventually(async () => {
      const list = await slicesOf(client, 'many');
      const total = list.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);
      return total === 7 ? list : undefined;
    }, 10_000, 'seven endpoints');
    assert.equal(slices.length, 3, '7 endpoints, 3 per slice');
    assert.ok(slices.every((s) => s.endpoints.length <= 3));
    await sleep(300);
    assert.equal((await slicesOf(client, 'many')).length, 3, 'no duplicate slices appeared');

    for (let i = 0; i < 7; i++) await client.delete(podsResource, 'default', `many-${i}`, { gracePeriodSeconds: 0 });
    const placeholder = await eventually(async () => {
      const list = await slicesOf(client, 'many');
      return list.length === 1 && (list[0].endpoints ?? []).length === 0 ? list[0] : undefined;
    }, 10_000, 'one empty placeholder');
    assert.deepEqual(placeholder.ports ?? [], []);
    await eventually(async () => (((await endpointsOf(client, 'many'))?.subsets ?? []).length === 0 ? true : undefined), 10_000, 'empty Endpoints');
  });

  test('publishNotReadyAddresses makes every pod ready', async () => {
    await runPod(client, 'db-0', { app: 'db' }, { ip: '10.42.0.31', ready: false });
    await client.create(services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db' },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'db' }, ports: [{ port: 5432 }] },
    });
    const [slice] = await eventually(async () => {
      const list = await slicesOf(client, 'db');
      return list[0]?.endpoints?.length === 1 ? list : undefined;
    }, 10_000, 'db slice');
    assert.deepEqual(slice.endpoints[0].conditions, { ready: true, serving: true, terminating: false });
    assert.equal(slice.metadata.labels['service.kubernetes.io/headless'], '');
    const ep = await eventually(() => endpointsOf(client, 'db'), 10_000, 'Endpoints');
    assert.equal(ep.subsets[0].addresses[0].ip, '10.42.0.31');
  });

  test('Services without a selector are left alone; deleting a Service removes its Endpoints', async () => {
    await client.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 443 }] } });
    await client.create(endpointsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'external' },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 443 }] }],
    });
    await sleep(500);
    assert.equal((await slicesOf(client, 'external')).length, 0);
    assert.equal((await endpointsOf(client, 'external')).subsets[0].addresses[0].ip, '192.0.2.10', 'user-managed Endpoints untouched');

    await client.delete(services, 'default', 'web');
    await eventually(async () => ((await endpointsOf(client, 'web')) === undefined ? true : undefined), 10_000, 'Endpoints of web deleted');
    await eventually(async () => ((await slicesOf(client, 'web')).length === 0 ? true : undefined), 10_000, 'slices of web deleted');
  });
});
