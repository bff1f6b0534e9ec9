import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestCluster } from '../helpers/cluster.js';
import type { ApiResponse, TestCluster } from '../helpers/cluster.js';

const MERGE = { 'content-type': 'application/merge-patch+json' };

function node(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  };
}

function lease(name: string) {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } };
}

function pod(name: string, nodeName: string, refs: { secret?: string; configMap?: string } = {}) {
  const container: Record<string, unknown> = { name: 'app', image: 'busybox' };
  if (refs.secret) container['env'] = [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: refs.secret, key: 'password' } } }];
  const spec: Record<string, unknown> = { nodeName, containers: [container] };
  if (refs.configMap) {
    spec['volumes'] = [{ name: 'config', configMap: { name: refs.configMap } }];
    container['volumeMounts'] = [{ name: 'config', mountPath: '/config' }];
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec };
}

function assertForbidden(res: ApiResponse<{ reason?: string; message: string }>, pattern: RegExp): void {
  assert.equal(res.status, 403, `expected 403, got ${res.status}: ${res.text}`);
  assert.equal(res.body.reason, 'Forbidden');
  assert.match(res.body.message, pattern);
}

describe('what a node may do (Node authorizer and NodeRestriction)', () => {
  let cluster: TestCluster;
  let tokenA: string;
  const asA = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => cluster.api(method, path, { token: tokenA, body, headers });

  before(async () => {
    cluster = await startTestCluster();
    const join = async (nodeName: string) => {
      const res = await cluster.api('POST', '/v1-skiff/node-credential', {
        token: cluster.controlPlane.nodeToken,
        body: { nodeName, nodePassword: randomBytes(16).toString('hex') },
      });
      assert.equal(res.status, 200, res.text);
      return res.body.token as string;
    };
    tokenA = await join('node-a');
    await join('node-b');
    // The admin creates node-b's objects and the pods.
    assert.equal((await cluster.api('POST', '/api/v1/nodes', { body: node('node-b') })).status, 201);
    assert.equal((await cluster.api('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { body: lease('node-b') })).status, 201);
    for (const [name, data] of [['secret-a', 'a'], ['secret-b', 'b'], ['secret-none', 'n']] as const) {
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { password: data } };
      assert.equal((await cluster.api('POST', '/api/v1/namespaces/default/secrets', { body: secret })).status, 201);
    }
    for (const name of ['config-a', 'config-b']) {
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: 'v' } };
      assert.equal((await cluster.api('POST', '/api/v1/namespaces/default/configmaps', { body: cm })).status, 201);
    }
    for (const p of [pod('pod-a', 'node-a', { secret: 'secret-a', configMap: 'config-a' }), pod('pod-b', 'node-b', { secret: 'secret-b', configMap: 'config-b' })]) {
      assert.equal((await cluster.api('POST', '/api/v1/namespaces/default/pods', { body: p })).status, 201);
    }
  });
  after(async () => {
    await cluster.close();
  });

  test('a node registers and updates its own Node, and no other', async () => {
    assert.equal((await asA('POST', '/api/v1/nodes', node('node-a'))).status, 201);
    assertForbidden(await asA('POST', '/api/v1/nodes', node('node-z')), /^nodes "node-z" is forbidden: node "node-a" is not allowed to modify node "node-z"$/);

    const own = await asA('PATCH', '/api/v1/nodes/node-a/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, MERGE);
    assert.equal(own.status, 200, own.text);
    assert.equal((await asA('PATCH', '/api/v1/nodes/node-a', { metadata: { labels: { zone: 'z1' } } }, MERGE)).status, 200);

    assertForbidden(
      await asA('PATCH', '/api/v1/nodes/node-b', { metadata: { labels: { evil: 'yes' } } }, MERGE),
      /^nodes "node-b" is forbidden: User "system:node:node-a" cannot patch resource "nodes" in API group "" at the cluster scope: node 'node-a' cannot modify node 'node-b'$/,
    );
    assertForbidden(await asA('PATCH', '/api/v1/nodes/node-b/status', { status: {} }, MERGE), /cannot patch resource "nodes\/status"/);
    assertForbidden(await asA('DELETE', '/api/v1/nodes/node-b'), /cannot delete resource "nodes"/);
    // Reading every node is allowed (kubelets and proxies do).
    const list = await asA('GET', '/api/v1/nodes');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((n: { metadata: { name: string } }) => n.metadata.name).sort(), ['node-a', 'node-b']);
  });

  test('a node keeps its own Lease in kube-node-lease, and no other', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    assert.equal((await asA('POST', leases, lease('node-a'))).status, 201);
    assertForbidden(await asA('POST', leases, lease('node-q')), /can only access node lease with the same name as the requesting node/);
    const renewed = await asA('PATCH', `${leases}/node-a`, { spec: { renewTime: '2030-01-01T00:00:00.000000Z' } }, MERGE);
    assert.equal(renewed.status, 200, renewed.text);
    assertForbidden(await asA('PATCH', `${leases}/node-b`, { spec: { holderIdentity: 'node-a' } }, MERGE), /cannot patch resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"/);
    assertForbidden(await asA('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases'), /cannot list resource "leases"/);
  });

  test("a node writes the status of its own pods, and deletes only those", async () => {
    const status = await asA('PATCH', '/api/v1/namespaces/default/pods/pod-a/status', { status: { phase: 'Running' } }, MERGE);
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.status.phase, 'Running');
    assertForbidden(
      await asA('PATCH', '/api/v1/namespaces/default/pods/pod-b/status', { status: { phase: 'Failed' } }, MERGE),
      /^pods "pod-b" is forbidden: node "node-a" can only update pod status for pods with spec.nodeName set to itself$/,
    );
    // Not the spec, not new pods, not bindings.
    assertForbidden(await asA('PATCH', '/api/v1/namespaces/default/pods/pod-a', { metadata: { labels: { x: 'y' } } }, MERGE), /cannot patch resource "pods" in API group "" in the namespace "default"/);
    assertForbidden(await asA('POST', '/api/v1/namespaces/default/pods', pod('pod-new', 'node-a')), /cannot create resource "pods"/);
    // Nor evictions, even of its own pods: those are the cluster admin's (kubectl drain).
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'pod-a' } };
    assertForbidden(await asA('POST', '/api/v1/namespaces/default/pods/pod-a/eviction', eviction), /cannot create resource "pods\/eviction" in API group "" in the namespace "default"/);

    assertForbidden(await asA('DELETE', '/api/v1/namespaces/default/pods/pod-b'), /can only delete pods with spec.nodeName set to itself/);
    assert.equal((await cluster.api('GET', '/api/v1/namespaces/default/pods/pod-b')).status, 200, 'pod-b survives');
    // Reads of all pods are allowed, e.g. the watch on its own.
    assert.equal((await asA('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a')).status, 200);
  });

  test('a node reads only the secrets and configmaps its pods reference', async () => {
    assert.equal((await asA('GET', '/api/v1/namespaces/default/secrets/secret-a')).status, 200);
    assertForbidden(
      await asA('GET', '/api/v1/namespaces/default/secrets/secret-b'),
      /^secrets "secret-b" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'node-a' and this object$/,
    );
    assertForbidden(await asA('GET', '/api/v1/namespaces/default/secrets/secret-none'), /no relationship found/);
    assertForbidden(await asA('GET', '/api/v1/namespaces/default/secrets'), /^secrets is forbidden: User "system:node:node-a" cannot list resource "secrets"/);
    assertForbidden(await asA('GET', '/api/v1/secrets'), /cannot list resource "secrets" in API group "" at the cluster scope/);
    // A list or watch narrowed to one referenced name is how kubelet watches a secret.
    const narrowed = await asA('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dsecret-a');
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.equal(narrowed.body.items.length, 1);
    assertForbidden(await asA('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dsecret-b'), /no relationship found/);

    assert.equal((await asA('GET', '/api/v1/namespaces/default/configmaps/config-a')).status, 200);
    assertForbidden(await asA('GET', '/api/v1/namespaces/default/configmaps/config-b'), /no relationship found/);
    assertForbidden(await asA('DELETE', '/api/v1/namespaces/default/secrets/secret-a'), /cannot delete resource "secrets"/);
  });

  test('a node records events, reads services and endpoints, and nothing else', async () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'pod-a.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'pod-a', namespace: 'default' },
      reason: 'Started',
      message: 'Started container app',
      type: 'Normal',
      source: { component: 'skiff-agent', host: 'node-a' },
    };
    assert.equal((await asA('POST', '/api/v1/namespaces/default/events', event)).status, 201);
    for (const path of ['/api/v1/services', '/api/v1/endpoints', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/namespaces']) {
      assert.equal((await asA('GET', path)).status, 200, path);
    }
    assertForbidden(await asA('GET', '/apis/apps/v1/namespaces/default/deployments'), /cannot list resource "deployments" in API group "apps" in the namespace "default"/);
    assertForbidden(await asA('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mine' } }), /cannot create resource "namespaces"/);
    assertForbidden(await asA('GET', '/metrics'), /^forbidden: User "system:node:node-a" cannot get path "\/metrics"$/);
    assertForbidden(await asA('GET', '/apis/metrics.k8s.io/v1beta1/nodes'), /cannot list resource "nodes" in API group "metrics.k8s.io"/);
    // Discovery is public to every authenticated user.
    assert.equal((await asA('GET', '/api')).status, 200);
    assert.equal((await asA('GET', '/apis')).status, 200);
  });

  test('the admin is unrestricted', async () => {
    assert.equal((await cluster.api('PATCH', '/api/v1/nodes/node-b', { body: { metadata: { labels: { admin: 'yes' } } }, headers: MERGE })).status, 200);
    assert.equal((await cluster.api('GET', '/api/v1/namespaces/default/secrets')).status, 200);
    assert.equal((await cluster.api('GET', '/metrics')).status, 200);
  });

  test('a node token is bound to its exact value and node name', async () => {
    const res = await cluster.api('POST', '/v1-skiff/node-credential', {
      token: cluster.controlPlane.nodeToken,
      body: { nodeName: 'node-gone', nodePassword: randomBytes(16).toString('hex') },
    });
    const token = res.body.token as string;
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token })).status, 200);
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: `${token}x` })).status, 401);
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: token.replace('node-gone', 'node-a') })).status, 401, 'a token is bound to its node name');
  });
  test('kubectl auth whoami and can-i, and the reviews a node posts, answer as the authorizer decides', async () => {
    const whoami = await cluster.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.ok(JSON.parse(whoami.stdout).status.userInfo.groups.includes('system:masters'));
    const yes = await cluster.kubectl(['auth', 'can-i', 'create', 'deployments.apps', '-n', 'default']);
    assert.deepEqual([yes.code, yes.stdout.trim()], [0, 'yes']);
    const list = await cluster.kubectl(['auth', 'can-i', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);

    const review = (attributes: Record<string, string>) =>
      asA('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: attributes },
      });
    const own = await review({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'secret-a' });
    assert.equal(own.status, 201, own.text);
    assert.deepEqual(own.body.status, { allowed: true });
    const other = await review({ verb: 'get', resource: 'secrets', namespace: 'default', name: 'secret-b' });
    assert.equal(other.body.status.allowed, false);
    assert.match(other.body.status.reason, /cannot get resource "secrets"/);
    assert.equal((await review({ verb: 'delete', resource: 'nodes', name: 'node-b' })).body.status.allowed, false);
    assert.equal((await review({ verb: 'list', resource: 'nodes' })).body.status.allowed, true);
    const me = await asA('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(me.body.status.userInfo.username, 'system:node:node-a');
    const bad = await asA('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} });
    assert.equal(bad.status, 400);
  });
});
