// Object semantics of the API server over real HTTPS: system metadata, create/get/update/patch/
// delete, optimistic concurrency, status and scale subresources, bad input answered with
// Kubernetes' Status errors and no change to stored state.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const deployment = (name: string, labels: Record<string, string> = { app: name }) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
  },
});

const configMap = (name: string, data: Record<string, string> = { a: '1' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

describe('API server object semantics', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.close();
  });

  test('health endpoints answer without a token; everything else needs one', async () => {
    for (const path of ['/livez', '/readyz', '/healthz']) {
      const res = await c.api('GET', path, { token: null });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'ok');
    }
    const missing = await c.api('GET', '/api/v1/namespaces', { token: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.kind, 'Status');
    assert.equal(missing.body.reason, 'Unauthorized');
    const wrong = await c.api('GET', '/api/v1/namespaces', { token: 'not-the-token' });
    assert.equal(wrong.status, 401);
  });

  test('/version reports Kubernetes 1.32 so the kubectl dispatcher picks a 1.32 client', async () => {
    const res = await c.api('GET', '/version');
    assert.equal(res.status, 200);
    assert.equal(res.body.major, '1');
    assert.equal(res.body.minor, '32');
    assert.match(res.body.gitVersion, /^v1\.32\./);
  });

  test('the system namespaces, their default ServiceAccounts and the kubernetes Service exist from the start', async () => {
    const ns = await c.api('GET', '/api/v1/namespaces');
    const names = ns.body.items.map((n: any) => n.metadata.name).sort();
    assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    for (const n of names) {
      const sa = await c.api('GET', `/api/v1/namespaces/${n}/serviceaccounts/default`);
      assert.equal(sa.status, 200, `default ServiceAccount in ${n}`);
    }
    const svc = await c.api('GET', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(svc.body.spec.clusterIP, '10.43.0.1');
    assert.equal(svc.body.spec.ports[0].port, 443);
    // Bound to loopback, the server publishes no Endpoints (pods could not reach 127.0.0.1).
    const ep = await c.api('GET', '/api/v1/namespaces/default/endpoints/kubernetes');
    assert.equal(ep.status, 404);
  });

  test('create fills system metadata, defaults the spec and resets status', async () => {
    const body = { ...deployment('meta'), status: { replicas: 99 } };
    const res = await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body });
    assert.equal(res.status, 201);
    const m = res.body.metadata;
    assert.match(m.uid, /^[0-9a-f-]{36}$/);
    assert.match(m.resourceVersion, /^\d+$/);
    assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(m.generation, 1);
    assert.equal(m.namespace, 'default');
    assert.equal(res.body.status, undefined);
    assert.equal(res.body.spec.strategy.type, 'RollingUpdate');
    assert.equal(res.body.spec.revisionHistoryLimit, 10);
    assert.equal(res.body.spec.template.spec.restartPolicy, 'Always');
    const got = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments/meta');
    assert.deepEqual(got.body, res.body);
  });

  test('a Node keeps the status it is created with, as a kubelet registers it', async () => {
    const status = { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] };
    const res = await c.api('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'registered' }, status } });
    assert.equal(res.status, 201);
    // Allocatable defaults to the capacity.
    assert.deepEqual(res.body.status, { ...status, allocatable: status.capacity });
    assert.deepEqual((await c.api('GET', '/api/v1/nodes/registered')).body.status, res.body.status);
    const bad = await c.api('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bad-capacity' }, status: { capacity: { cpu: 'lots' } } } });
    assert.equal(bad.status, 400, 'an unparsable quantity fails decoding, as in Kubernetes');
    assert.equal((await c.api('GET', '/api/v1/nodes/bad-capacity')).status, 404);
    assert.equal((await c.api('DELETE', '/api/v1/nodes/registered')).status, 200);
  });

  test('the answer to every write is the object as a GET then returns it, resourceVersion included', async () => {
    // Answers are the stored text with the resourceVersion spliced in, not a second serialisation.
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const asGot = async (res: { status: number; body: any }, status: number) => {
      assert.equal(res.status, status);
      assert.match(res.body.metadata.resourceVersion, /^\d+$/);
      assert.deepEqual((await c.api('GET', `${path}/answers`)).body, res.body);
      return res.body;
    };
    const created = await asGot(await c.api('POST', path, { body: deployment('answers') }), 201);
    const updated = await asGot(await c.api('PUT', `${path}/answers`, { body: { ...created, spec: { ...created.spec, replicas: 3 } } }), 200);
    assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
    const patch = { body: { metadata: { annotations: { extra: 'é"\n' } } }, headers: { 'content-type': 'application/merge-patch+json' } };
    await asGot(await c.api('PATCH', `${path}/answers`, patch), 200);
    const status = { body: { status: { observedGeneration: 2 } }, headers: { 'content-type': 'application/merge-patch+json' } };
    const withStatus = await asGot(await c.api('PATCH', `${path}/answers/status`, status), 200);
    assert.equal(withStatus.status.observedGeneration, 2);
    // Kinds served in two groups get each its own apiVersion.
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'answers' }, involvedObject: { kind: 'Deployment', name: 'answers' }, reason: 'R', type: 'Normal' };
    assert.equal((await c.api('POST', '/api/v1/namespaces/default/events', { body: event })).body.apiVersion, 'v1');
    const asV1 = await c.api('GET', '/apis/events.k8s.io/v1/namespaces/default/events/answers');
    assert.equal(asV1.body.apiVersion, 'events.k8s.io/v1');
    assert.equal(asV1.body.reason, 'R');
  });

  test('generateName creates a unique name', async () => {
    const a = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: { ...configMap(''), metadata: { generateName: 'gen-' } } });
    const b = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: { ...configMap(''), metadata: { generateName: 'gen-' } } });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.match(a.body.metadata.name, /^gen-[a-z0-9]{5}$/);
    assert.notEqual(a.body.metadata.name, b.body.metadata.name);
  });

  test('creating an existing name is 409 AlreadyExists and leaves the object unchanged', async () => {
    const first = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('dup', { a: '1' }) });
    const again = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('dup', { a: '2' }) });
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, 'AlreadyExists');
    assert.equal(again.body.message, 'configmaps "dup" already exists');
    const got = await c.api('GET', '/api/v1/namespaces/default/configmaps/dup');
    assert.deepEqual(got.body, first.body);
  });

  test('a missing object is 404 NotFound with the Kubernetes message', async () => {
    const res = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    assert.equal(res.status, 404);
    assert.equal(res.body.message, 'deployments.apps "nope" not found');
    assert.deepEqual(res.body.details, { name: 'nope', group: 'apps', kind: 'deployments' });
  });

  test('creating in a namespace that does not exist is 404', async () => {
    const res = await c.api('POST', '/api/v1/namespaces/ghost/configmaps', { body: configMap('x') });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, 'namespaces "ghost" not found');
  });

  test('an update with a stale resourceVersion is 409 Conflict; a fresh one succeeds', async () => {
    const created = (await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('cas') })).body;
    const fresh = await c.api('PUT', '/api/v1/namespaces/default/configmaps/cas', { body: { ...created, data: { a: '2' } } });
    assert.equal(fresh.status, 200);
    assert.ok(Number(fresh.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const stale = await c.api('PUT', '/api/v1/namespaces/default/configmaps/cas', { body: { ...created, data: { a: '3' } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.match(stale.body.message, /^Operation cannot be fulfilled on configmaps "cas": the object has been modified/);
    const got = await c.api('GET', '/api/v1/namespaces/default/configmaps/cas');
    assert.equal(got.body.data.a, '2');
  });

  test('an unchanged update writes nothing: the resourceVersion stays', async () => {
    const created = (await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('noop') })).body;
    const res = await c.api('PUT', '/api/v1/namespaces/default/configmaps/noop', { body: created });
    assert.equal(res.status, 200);
    assert.equal(res.body.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  test('generation counts spec changes, not status or metadata changes', async () => {
    const d = (await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('gen') })).body;
    const labelled = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', {
      body: { metadata: { labels: { app: 'gen', extra: 'x' } } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(labelled.body.metadata.generation, 1);
    const scaled = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', {
      body: { spec: { replicas: 5 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(scaled.body.metadata.generation, 2);
    const status = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/gen/status', {
      body: { ...scaled.body, status: { replicas: 5, observedGeneration: 2 } },
    });
    assert.equal(status.status, 200);
    assert.equal(status.body.metadata.generation, 2);
    assert.equal(status.body.status.replicas, 5);
    assert.ok(d.metadata.uid === status.body.metadata.uid);
  });

  test('the main resource cannot write status; the status subresource cannot write spec', async () => {
    const d = (await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('split') })).body;
    const viaMain = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/split', { body: { ...d, status: { replicas: 7 } } });
    assert.equal(viaMain.body.status, undefined);
    const viaStatus = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/split/status', {
      body: { ...d, spec: { ...d.spec, replicas: 9 }, status: { replicas: 1 } },
    });
    assert.equal(viaStatus.body.spec.replicas, 2);
    assert.equal(viaStatus.body.status.replicas, 1);
  });

  test('the scale subresource reads and writes spec.replicas as an autoscaling/v1 Scale', async () => {
    await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('scaled', { app: 'scaled', tier: 'web' }) });
    const scale = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments/scaled/scale');
    assert.equal(scale.body.kind, 'Scale');
    assert.equal(scale.body.apiVersion, 'autoscaling/v1');
    assert.equal(scale.body.spec.replicas, 2);
    assert.equal(scale.body.status.selector, 'app=scaled,tier=web');
    const patched = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/scaled/scale', {
      body: { spec: { replicas: 4 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.spec.replicas, 4);
    const put = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/scaled/scale', {
      body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled', namespace: 'default' }, spec: { replicas: 3 } },
    });
    assert.equal(put.body.spec.replicas, 3);
    const d = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments/scaled');
    assert.equal(d.body.spec.replicas, 3);
    assert.equal(d.body.metadata.generation, 3);
    const negative = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/scaled/scale', {
      body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled' }, spec: { replicas: -1 } },
    });
    assert.equal(negative.status, 422);
  });

  test('invalid objects are 422 Invalid with every bad field in details.causes, and nothing is stored', async () => {
    const bad = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'v' } },
      spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000 }] }, { name: 'a', image: 'y' }] },
    };
    const res = await c.api('POST', '/api/v1/namespaces/default/pods', { body: bad });
    assert.equal(res.status, 422);
    assert.equal(res.body.reason, 'Invalid');
    assert.match(res.body.message, /^Pod "Bad_Name" is invalid: \[/);
    const fields = res.body.details.causes.map((cause: any) => cause.field);
    for (const f of ['metadata.name', 'metadata.labels', 'spec.containers[0].ports[0].containerPort', 'spec.containers[1].name']) {
      assert.ok(fields.includes(f), `cause for ${f} in ${JSON.stringify(fields)}`);
    }
    // Each cause's type is under `reason`, as Go's StatusCause names it in JSON.
    const duplicateName = res.body.details.causes.find((cause: any) => cause.field === 'spec.containers[1].name');
    assert.equal(duplicateName.reason, 'FieldValueDuplicate');
    assert.equal(duplicateName.type, undefined);
    const list = await c.api('GET', '/api/v1/namespaces/default/pods');
    assert.equal(list.body.items.filter((p: any) => p.metadata.name === 'Bad_Name').length, 0);
  });

  test('a Deployment whose selector does not match its template is refused', async () => {
    const d = deployment('mismatch');
    d.spec.template.metadata.labels = { app: 'other' };
    const res = await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: d });
    assert.equal(res.status, 422);
    assert.ok(res.body.details.causes.some((cause: any) => cause.field === 'spec.template.metadata.labels'));
  });

  test('the apps/v1 selector is immutable', async () => {
    const d = (await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('immutable') })).body;
    const changed = structuredClone(d);
    changed.spec.selector = { matchLabels: { app: 'immutable', x: 'y' } };
    changed.spec.template.metadata.labels = { app: 'immutable', x: 'y' };
    const res = await c.api('PUT', '/apis/apps/v1/namespaces/default/deployments/immutable', { body: changed });
    assert.equal(res.status, 422);
    assert.ok(res.body.details.causes.some((cause: any) => cause.field === 'spec.selector'));
  });

  test('malformed JSON and YAML are 400 BadRequest', async () => {
    const json = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: '{"apiVersion": "v1", ' });
    assert.equal(json.status, 400);
    assert.equal(json.body.reason, 'BadRequest');
    const yaml = await c.api('POST', '/api/v1/namespaces/default/configmaps', {
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed',
      headers: { 'content-type': 'application/yaml' },
    });
    assert.equal(yaml.status, 400);
    const array = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: '[1,2]' });
    assert.equal(array.status, 400);
  });

  test('YAML bodies are accepted', async () => {
    const res = await c.api('POST', '/api/v1/namespaces/default/configmaps', {
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n',
      headers: { 'content-type': 'application/yaml' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.k, 'v');
  });

  test('a body of the wrong kind or apiVersion is 400', async () => {
    const kind = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: { ...configMap('k'), kind: 'Secret' } });
    assert.equal(kind.status, 400);
    const version = await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: { ...deployment('v'), apiVersion: 'apps/v1beta1' } });
    assert.equal(version.status, 400);
    const unknown = await c.api('GET', '/apis/example.com/v1/widgets');
    assert.equal(unknown.status, 404);
  });

  test('a body over 3 MiB is 413', async () => {
    const big = configMap('big', { blob: 'x'.repeat(3 * 1024 * 1024 + 10) });
    const res = await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: big });
    assert.equal(res.status, 413);
    assert.equal(res.body.reason, 'RequestEntityTooLarge');
    const got = await c.api('GET', '/api/v1/namespaces/default/configmaps/big');
    assert.equal(got.status, 404);
  });

  test('fieldValidation=Strict rejects unknown fields; Warn drops them with a warning', async () => {
    const body = { ...configMap('strict'), spec: { oops: true } };
    const strict = await c.api('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { body });
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"');
    const nested = deployment('strict-nested') as any;
    nested.spec.template.spec.containers[0].imagee = 'typo';
    const strictNested = await c.api('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', { body: nested });
    assert.equal(strictNested.status, 400);
    assert.match(strictNested.body.message, /unknown field "spec\.template\.spec\.containers\[0\]\.imagee"/);
    const warn = await c.api('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { body });
    assert.equal(warn.status, 201);
    assert.equal(warn.body.spec, undefined);
    assert.match(String(warn.headers['warning']), /unknown field \\"spec\\"/);
  });

  test('dryRun=All validates and answers without storing', async () => {
    const res = await c.api('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: configMap('dry') });
    assert.equal(res.status, 201);
    assert.equal(res.body.metadata.name, 'dry');
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
    const bad = await c.api('POST', '/api/v1/namespaces/default/configmaps?dryRun=Some', { body: configMap('dry') });
    assert.equal(bad.status, 400);
  });

  test('objects with finalizers are marked for deletion and go when the last finalizer is removed', async () => {
    const created = (await c.api('POST', '/api/v1/namespaces/default/configmaps', {
      body: { ...configMap('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } },
    })).body;
    const del = await c.api('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(del.status, 200);
    assert.ok(del.body.metadata.deletionTimestamp, 'deletionTimestamp set');
    const still = await c.api('GET', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(still.status, 200);
    const addFinalizer = await c.api('PATCH', '/api/v1/namespaces/default/configmaps/fin', {
      body: { metadata: { finalizers: ['example.com/hold', 'example.com/another'] } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(addFinalizer.status, 422);
    const release = await c.api('PATCH', '/api/v1/namespaces/default/configmaps/fin', {
      body: { metadata: { finalizers: null } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(release.status, 200);
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);
    assert.ok(created.metadata.uid);
  });

  test('a pod bound to a node is deleted gracefully; an unbound one at once', async () => {
    const pod = (name: string, nodeName?: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
    });
    await c.api('POST', '/api/v1/namespaces/default/pods', { body: pod('unbound') });
    const gone = await c.api('DELETE', '/api/v1/namespaces/default/pods/unbound');
    assert.equal(gone.status, 200);
    assert.equal(gone.body.kind, 'Pod');
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/pods/unbound')).status, 404);

    await c.api('POST', '/api/v1/namespaces/default/pods', { body: pod('bound', 'node-a') });
    const graceful = await c.api('DELETE', '/api/v1/namespaces/default/pods/bound', { body: { gracePeriodSeconds: 20 } });
    assert.equal(graceful.status, 200);
    assert.equal(graceful.body.metadata.deletionGracePeriodSeconds, 20);
    const ts = Date.parse(graceful.body.metadata.deletionTimestamp);
    assert.ok(ts > Date.now() + 10_000 && ts < Date.now() + 25_000);
    // The agent finishes with grace 0 once the containers are gone.
    const final = await c.api('DELETE', '/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0');
    assert.equal(final.status, 200);
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/pods/bound')).status, 404);
  });

  test('pods/binding sets nodeName once; a second binding is 409', async () => {
    await c.api('POST', '/api/v1/namespaces/default/pods', {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tobind' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    });
    const binding = (node: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: node } });
    const first = await c.api('POST', '/api/v1/namespaces/default/pods/tobind/binding', { body: binding('node-1') });
    assert.equal(first.status, 201);
    const second = await c.api('POST', '/api/v1/namespaces/default/pods/tobind/binding', { body: binding('node-2') });
    assert.equal(second.status, 409);
    const pod = await c.api('GET', '/api/v1/namespaces/default/pods/tobind');
    assert.equal(pod.body.spec.nodeName, 'node-1');
    assert.ok(pod.body.status.conditions.some((x: any) => x.type === 'PodScheduled' && x.status === 'True'));
  });

  test('delete of a plain object answers a Success Status; propagation policies are recorded as finalizers', async () => {
    await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('plain') });
    const res = await c.api('DELETE', '/api/v1/namespaces/default/configmaps/plain', { body: { propagationPolicy: 'Background' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.kind, 'Status');
    assert.equal(res.body.status, 'Success');
    assert.equal(res.body.details.name, 'plain');

    await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('orphaned') });
    const orphan = await c.api('DELETE', '/apis/apps/v1/namespaces/default/deployments/orphaned', { body: { propagationPolicy: 'Orphan' } });
    assert.equal(orphan.status, 200);
    assert.deepEqual(orphan.body.metadata.finalizers, ['orphan']);
    const badPolicy = await c.api('DELETE', '/apis/apps/v1/namespaces/default/deployments/gen', { body: { propagationPolicy: 'Sideways' } });
    assert.equal(badPolicy.status, 422);
  });

  test('deletecollection deletes what the selector matches', async () => {
    for (const [name, tier] of [['dc-1', 'a'], ['dc-2', 'a'], ['dc-3', 'b']]) {
      await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: { ...configMap(name!), metadata: { name, labels: { tier } } } });
    }
    const res = await c.api('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=tier%3Da');
    assert.equal(res.status, 200);
    const left = await c.api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=tier');
    assert.deepEqual(left.body.items.map((x: any) => x.metadata.name), ['dc-3']);
  });

  test('JSON patch, merge patch and strategic merge patch', async () => {
    await c.api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('patched') });
    const json = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched', {
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(json.status, 200);
    assert.equal(json.body.spec.replicas, 3);
    const smp = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched', {
      body: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'web', image: 'nginx:1.28' }] } } } },
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
    });
    assert.equal(smp.status, 200);
    const container = smp.body.spec.template.spec.containers[0];
    assert.equal(container.image, 'nginx:1.28');
    assert.deepEqual(container.ports, [{ containerPort: 80, protocol: 'TCP' }], 'strategic merge keeps the ports');
    const notArray = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched', {
      body: { spec: {} },
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(notArray.status, 400);
    const apply = await c.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched?fieldManager=x', {
      body: deployment('patched'),
      headers: { 'content-type': 'application/apply-patch+yaml' },
    });
    assert.equal(apply.status, 415);
    const after = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments/patched');
    assert.equal(after.body.spec.template.spec.containers[0].image, 'nginx:1.28');
  });

  test('a patch that renames an object or moves it to another namespace is 400, not silently undone', async () => {
    await c.api('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('renamed') });
    const path = '/api/v1/namespaces/default/configmaps/renamed';
    const rename = await c.api('PATCH', path, {
      body: [{ op: 'replace', path: '/metadata/name', value: 'other' }, { op: 'replace', path: '/data/a', value: '2' }],
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(rename.status, 400);
    assert.equal(rename.body.reason, 'BadRequest');
    assert.equal(rename.body.message, 'the name of the object (other) does not match the name on the URL (renamed)');
    const unnamed = await c.api('PATCH', path, { body: { metadata: { name: null } }, headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.body.message, 'the name of the object () does not match the name on the URL (renamed)');
    const move = await c.api('PATCH', path, {
      body: { metadata: { namespace: 'kube-system' }, data: { a: '3' } },
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
    });
    assert.equal(move.status, 400);
    assert.equal(move.body.message, 'the namespace of the provided object does not match the namespace sent on the request');
    const stored = await c.api('GET', path);
    assert.deepEqual(stored.body.data, { a: '1' });
    assert.equal((await c.api('GET', '/api/v1/namespaces/default/configmaps/other')).status, 404);
  });

  test('server-side Tables carry the printed columns and partial object metadata', async () => {
    const res = await c.api('GET', '/apis/apps/v1/namespaces/default/deployments', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.kind, 'Table');
    assert.deepEqual(
      res.body.columnDefinitions.filter((col: any) => col.priority === 0).map((col: any) => col.name),
      ['Name', 'Ready', 'Up-to-date', 'Available', 'Age'],
    );
    const row = res.body.rows[0];
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.equal(row.object.metadata.namespace, 'default');
  });
});
