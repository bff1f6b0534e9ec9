// The endpoint controllers' pure logic, without a network: which pods count, named ports,
// endpoint conditions, slice planning (stable placement, splitting, placeholder), the legacy
// Endpoints subsets, and the stale-cache tracker.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { endpointConditions, findPort, shouldPodBeInEndpoints } from '../../controlplane/controllers/endpointslice/endpoints-of-pods.js';
import { endpointsSubsets } from '../../controlplane/controllers/endpointslice/legacy-endpoints.js';
import { desiredEndpoints, planSlices } from '../../controlplane/controllers/endpointslice/slices.js';
import { SliceTracker } from '../../controlplane/controllers/endpointslice/tracker.js';

const service: Service = {
  metadata: { name: 'web', namespace: 'default', uid: 'svc' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

function pod(name: string, ip: string | undefined, options: { ready?: boolean; port?: number; deleting?: boolean; phase?: string; node?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, deletionTimestamp: options.deleting ? '2024-01-01T00:00:00Z' : undefined },
    spec: { nodeName: options.node ?? 'n1', containers: [{ name: 'c', ports: options.port ? [{ name: 'http', containerPort: options.port }] : [] }] },
    status: {
      phase: options.phase ?? 'Running',
      podIP: ip,
      podIPs: ip ? [{ ip }] : [],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  } as Pod;
}

const nodes = (name: string): Node | undefined => (name === 'n1' ? { metadata: { name: 'n1', labels: {} } } : undefined);

describe('endpoints of pods', () => {
  test('pods without an IP or finished are left out; terminating ones only when asked', () => {
    assert.ok(!shouldPodBeInEndpoints(pod('a', undefined), true));
    assert.ok(!shouldPodBeInEndpoints(pod('a', '10.0.0.1', { phase: 'Succeeded' }), true));
    assert.ok(shouldPodBeInEndpoints(pod('a', '10.0.0.1', { deleting: true }), true));
    assert.ok(!shouldPodBeInEndpoints(pod('a', '10.0.0.1', { deleting: true }), false));
  });

  test('named ports resolve per pod, with the protocol', () => {
    assert.equal(findPort(pod('a', '1.1.1.1', { port: 8080 }), service.spec!.ports![0]!), 8080);
    assert.equal(findPort(pod('a', '1.1.1.1'), service.spec!.ports![0]!), undefined);
    assert.equal(findPort(pod('a', '1.1.1.1', { port: 8080 }), { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
    assert.equal(findPort(pod('a', '1.1.1.1'), { port: 80 }), 80, 'no targetPort: the port itself');
  });

  test('conditions: terminating pods are not ready but may still serve', () => {
    assert.deepEqual(endpointConditions(pod('a', '1.1.1.1', { deleting: true }), service), { ready: false, serving: true, terminating: true });
    assert.deepEqual(endpointConditions(pod('a', '1.1.1.1', { ready: false }), service), { ready: false, serving: false, terminating: false });
    const publish = { ...service, spec: { ...service.spec, publishNotReadyAddresses: true } };
    assert.deepEqual(endpointConditions(pod('a', '1.1.1.1', { ready: false }), publish), { ready: true, serving: true, terminating: false });
  });
});

describe('planning slices', () => {
  const pods = Array.from({ length: 5 }, (_, i) => pod(`p${i}`, `10.0.0.${i + 1}`, { port: 8080 }));

  test('endpoints are grouped by port set and split at the maximum', () => {
    const desired = desiredEndpoints(service, [...pods, pod('odd', '10.0.1.1')], nodes);
    assert.equal(desired.groups.size, 2, 'the pod without the named port has a port set of its own');
    const plan = planSlices(service, desired, [], 2);
    assert.equal(plan.create.length, 4, '5 endpoints in slices of 2, plus the odd one');
    assert.ok(plan.create.every((s) => s.metadata!.generateName === 'web-' && s.metadata!.labels!['kubernetes.io/service-name'] === 'web'));
    const unknownNode = desiredEndpoints(service, [pod('far', '10.0.2.1', { node: 'nowhere', port: 8080 })], nodes);
    assert.deepEqual(unknownNode.missingNodes, ['nowhere']);
  });

  test('existing slices keep their endpoints; new endpoints fill free room; emptied slices go', () => {
    const first = planSlices(service, desiredEndpoints(service, pods.slice(0, 3), nodes), [], 2);
    const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-${i}`, uid: `s${i}` } })) as EndpointSlice[];
    // p0,p1 | p2. Add p3, p4: p3 fills the second slice, p4 needs a new one.
    const grow = planSlices(service, desiredEndpoints(service, pods, nodes), existing, 2);
    assert.deepEqual(grow.update.map((s) => s.metadata!.name), ['web-1']);
    assert.deepEqual(grow.update[0]!.endpoints.map((e) => e.targetRef!.name), ['p2', 'p3']);
    assert.deepEqual(grow.create.map((s) => s.endpoints.map((e) => e.targetRef!.name)), [['p4']]);
    // Nothing changed: nothing to do.
    const same = planSlices(service, desiredEndpoints(service, pods.slice(0, 3), nodes), existing, 2);
    assert.deepEqual([same.create.length, same.update.length, same.delete.length], [0, 0, 0]);
    // p2 gone: its slice is empty and deleted.
    const shrink = planSlices(service, desiredEndpoints(service, pods.slice(0, 2), nodes), existing, 2);
    assert.deepEqual(shrink.delete.map((s) => s.metadata!.name), ['web-1']);
  });

  test('no endpoints: one placeholder slice', () => {
    const plan = planSlices(service, desiredEndpoints(service, [], nodes), [], 100);
    assert.equal(plan.create.length, 1);
    assert.deepEqual([plan.create[0]!.endpoints, plan.create[0]!.ports], [[], []]);
  });
});

describe('legacy Endpoints', () => {
  test('ready and not-ready addresses in subsets by port set, sorted by IP', () => {
    const { subsets } = endpointsSubsets(service, [pod('b', '10.0.0.2', { port: 8080 }), pod('a', '10.0.0.1', { port: 8080, ready: false }), pod('c', '10.0.0.3', { port: 9090 }), pod('x', '10.0.0.9')]);
    assert.equal(subsets.length, 2);
    const s8080 = subsets.find((s) => s.ports![0]!.port === 8080)!;
    assert.deepEqual(s8080.addresses!.map((a) => a.ip), ['10.0.0.2']);
    assert.deepEqual(s8080.notReadyAddresses!.map((a) => a.ip), ['10.0.0.1']);
    assert.ok(!subsets.some((s) => (s.addresses ?? []).some((a) => a.ip === '10.0.0.9')), 'a pod without the port is not listed');
  });

  test('terminating pods are left out unless publishNotReadyAddresses', () => {
    assert.deepEqual(endpointsSubsets(service, [pod('a', '10.0.0.1', { port: 8080, deleting: true })]).subsets, []);
    const publish = { ...service, spec: { ...service.spec, publishNotReadyAddresses: true } };
    assert.equal(endpointsSubsets(publish, [pod('a', '10.0.0.1', { port: 8080, deleting: true })]).subsets[0]!.addresses!.length, 1);
  });
});

describe('slice tracker', () => {
  test('a cache behind our writes is stale until it catches up', () => {
    const t = new SliceTracker();
    t.wrote('default/web', 'web-a', '10');
    assert.ok(t.isStale('default/web', new Map()));
    assert.ok(t.isStale('default/web', new Map([['web-a', '9']])));
    assert.ok(!t.isStale('default/web', new Map([['web-a', '10']])));
    t.deleted('default/web', 'web-b');
    assert.ok(t.isStale('default/web', new Map([['web-a', '10'], ['web-b', '8']])));
    t.observed('default/web', 'web-b', '8', true);
    t.observed('default/web', 'web-a', '11', false);
    assert.ok(!t.isStale('default/web', new Map([['web-b', '8']])), 'everything confirmed');
  });
});
