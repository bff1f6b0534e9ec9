import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinCluster, JoinRefusedError } from '../../agent/bootstrap/join.js';
import { credentialPaths } from '../../agent/bootstrap/files.js';
import { parseNodeToken } from '../../controlplane/apiserver/auth.js';
import { createCertificateAuthority } from '../../controlplane/apiserver/pki.js';
import { nodePasswordController } from '../../controlplane/controllers/nodepassword/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';

const FAST_RETRY = { initialMs: 50, maxMs: 200 };

describe('joining the cluster', () => {
  let cluster: TestCluster;
  let dir: string;
  let counter = 0;
  const dataDir = () => join(dir, `agent-${++counter}`);

  before(async () => {
    // The one controller joining depends on: a deleted Node's name is freed.
    cluster = await startTestCluster({ controllerManager: { only: [nodePasswordController()] } });
    dir = await mkdtemp(join(tmpdir(), 'skiff-join-'));
  });
  after(async () => {
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('GET /cacerts serves the cluster CA without credentials', async () => {
    const res = await cluster.api('GET', '/cacerts', { token: null });
    assert.equal(res.status, 200);
    assert.equal(res.text, cluster.controlPlane.caCertPem);
  });

  test('an agent with the join token gets a node identity and a serving certificate for its name and IP', async () => {
    const agentDir = dataDir();
    const credentials = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-a', nodeIp: '127.0.0.1', dataDir: agentDir });
    assert.equal(credentials.caCertPem, cluster.controlPlane.caCertPem);
    assert.match(credentials.token, /^skiff-node:node-a:/);

    // The token is the node's: it may read nodes, and is held to node rules elsewhere.
    const nodes = await cluster.api('GET', '/api/v1/nodes', { token: credentials.token });
    assert.equal(nodes.status, 200);
    const deployments = await cluster.api('GET', '/apis/apps/v1/deployments', { token: credentials.token });
    assert.equal(deployments.status, 403);
    assert.match(deployments.body.message, /User "system:node:node-a" cannot list resource "deployments" in API group "apps" at the cluster scope/);

    const cert = new X509Certificate(credentials.serving.certPem);
    const ca = new X509Certificate(cluster.controlPlane.caCertPem);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the cluster CA');
    assert.match(cert.subject, /CN=system:node:node-a/);
    assert.match(cert.subjectAltName ?? '', /DNS:node-a/);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), false, 'not usable as a client certificate');

    const paths = credentialPaths(agentDir);
    assert.equal((await stat(paths.nodeCredential)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.servingKey)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.nodePassword)).mode & 0o777, 0o600);

    // The server keeps only hashes, in a Secret every server of the cluster sees.
    const secret = await cluster.api('GET', '/api/v1/namespaces/kube-system/secrets/node-a.node-password.skiff');
    assert.equal(secret.status, 200);
    const stored = Buffer.from(secret.body.data.tokenHash, 'base64').toString();
    assert.ok(!stored.includes(credentials.token.split(':')[2]!));
  });

  test('a restarted agent reuses its credentials, even while the server is unreachable', async () => {
    const agentDir = dataDir();
    const first = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-b', nodeIp: '127.0.0.1', dataDir: agentDir });
    const again = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-b', nodeIp: '127.0.0.1', dataDir: agentDir });
    assert.equal(again.token, first.token);
    assert.equal(again.serving.certPem, first.serving.certPem);
    // Port 1 on loopback refuses connections: the stored credentials are enough.
    const offline = await joinCluster({ server: 'https://127.0.0.1:1', token: cluster.controlPlane.nodeToken, nodeName: 'node-b', nodeIp: '127.0.0.1', dataDir: agentDir, retry: FAST_RETRY });
    assert.equal(offline.token, first.token);
  });

  test('a new node IP gets a new serving certificate but keeps the identity', async () => {
    const agentDir = dataDir();
    const first = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-c', nodeIp: '127.0.0.1', dataDir: agentDir });
    const moved = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-c', nodeIp: '127.0.0.2', dataDir: agentDir });
    assert.equal(moved.token, first.token);
    assert.match(new X509Certificate(moved.serving.certPem).subjectAltName ?? '', /IP Address:127\.0\.0\.2/);
  });

  test('a wrong join token is refused', async () => {
    const { caHash } = parseNodeToken(cluster.controlPlane.nodeToken);
    const wrong = `K10${caHash}::node:not-the-secret`;
    await assert.rejects(
      joinCluster({ server: cluster.url, token: wrong, nodeName: 'node-d', nodeIp: '127.0.0.1', dataDir: dataDir() }),
      (err: unknown) => err instanceof JoinRefusedError && /does not accept the join token \(401/.test(err.message),
    );
  });

  test('a join token pinning another CA is refused before any credential is sent', async () => {
    const other = await createCertificateAuthority('someone-else');
    const { secret } = parseNodeToken(cluster.controlPlane.nodeToken);
    const { certificateFingerprintSha256 } = await import('../../controlplane/apiserver/pki.js');
    const token = `K10${certificateFingerprintSha256(other.certPem)}::node:${secret}`;
    const agentDir = dataDir();
    await assert.rejects(
      joinCluster({ server: cluster.url, token, nodeName: 'node-e', nodeIp: '127.0.0.1', dataDir: agentDir }),
      (err: unknown) => err instanceof JoinRefusedError && /is not the one the join token pins/.test(err.message),
    );
    const secretObject = await cluster.api('GET', '/api/v1/namespaces/kube-system/secrets/node-e.node-password.skiff');
    assert.equal(secretObject.status, 404, 'the server never saw a join for node-e');
  });

  test('another machine cannot take over an existing node name (node password)', async () => {
    await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-f', nodeIp: '127.0.0.1', dataDir: dataDir() });
    const intruderDir = dataDir();
    await assert.rejects(
      joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-f', nodeIp: '127.0.0.9', dataDir: intruderDir }),
      (err: unknown) => err instanceof JoinRefusedError && /node password rejected/.test(err.message) && /\(403\)/.test(err.message),
    );
    // The same machine (same password file) may join again, e.g. after losing its token.
    const ownerDir = dataDir();
    await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-g', nodeIp: '127.0.0.1', dataDir: ownerDir });
    const paths = credentialPaths(ownerDir);
    const before = JSON.parse(await readFile(paths.nodeCredential, 'utf8')) as { token: string };
    await rm(paths.nodeCredential);
    const rejoined = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-g', nodeIp: '127.0.0.1', dataDir: ownerDir });
    assert.notEqual(rejoined.token, before.token);
    // Only the newest token authenticates.
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: rejoined.token })).status, 200);
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: before.token })).status, 401);
  });

  test('deleting a Node frees its name: a reinstalled machine joins under it, the old token stops working', async () => {
    const first = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-r', nodeIp: '127.0.0.1', dataDir: dataDir() });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-r' } };
    assert.equal((await cluster.api('POST', '/api/v1/nodes', { token: first.token, body: node })).status, 201);
    // Not while the Node exists: the name is taken.
    await assert.rejects(
      joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-r', nodeIp: '127.0.0.1', dataDir: dataDir() }),
      (err: unknown) => err instanceof JoinRefusedError && /node password rejected/.test(err.message),
    );
    const deleted = await cluster.kubectl(['delete', 'node', 'node-r']);
    assert.equal(deleted.code, 0, deleted.stderr);
    await eventually(
      async () => ((await cluster.api('GET', '/api/v1/namespaces/kube-system/secrets/node-r.node-password.skiff')).status === 404 ? true : undefined),
      10_000,
      'the node-password Secret to go with the Node',
    );
    const reinstalled = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-r', nodeIp: '127.0.0.1', dataDir: dataDir() });
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: reinstalled.token })).status, 200);
    // The old token goes once the server's identity cache (10 s) reads the new Secret.
    await eventually(async () => ((await cluster.api('GET', '/api/v1/nodes', { token: first.token })).status === 401 ? true : undefined), 15_000, 'the old token to stop working');
  });

  test('a short token (the secret alone) joins, trusting the CA on first use', async () => {
    const { secret } = parseNodeToken(cluster.controlPlane.nodeToken);
    const credentials = await joinCluster({ server: cluster.url, token: secret, nodeName: 'node-h', nodeIp: '127.0.0.1', dataDir: dataDir() });
    assert.equal(credentials.caCertPem, cluster.controlPlane.caCertPem);
  });

  test('the raw join token may call the join endpoints and nothing else', async () => {
    const token = cluster.controlPlane.nodeToken;
    for (const path of ['/api', '/api/v1/nodes', '/api/v1/namespaces/default/pods', '/version']) {
      const res = await cluster.api('GET', path, { token });
      assert.equal(res.status, 403, path);
      assert.match(res.body.message, /system:node-bootstrap/);
    }
    const cert = await cluster.api('POST', '/v1-skiff/serving-certificate', { token, body: { addresses: ['127.0.0.1'] } });
    assert.equal(cert.status, 403);
  });

  test('node names and passwords are checked', async () => {
    const token = cluster.controlPlane.nodeToken;
    const badName = await cluster.api('POST', '/v1-skiff/node-credential', { token, body: { nodeName: 'Not_A_Name', nodePassword: 'x'.repeat(32) } });
    assert.equal(badName.status, 400);
    const shortPassword = await cluster.api('POST', '/v1-skiff/node-credential', { token, body: { nodeName: 'node-i', nodePassword: 'short' } });
    assert.equal(shortPassword.status, 400);
    const get = await cluster.api('GET', '/v1-skiff/node-credential', { token });
    assert.equal(get.status, 405);
  });

  test('every server of the cluster accepts the node token at once, also after the node joined again', async () => {
    // A second API server on the same store (its close must not close the shared store).
    const store = cluster.controlPlane.store;
    const shared = Object.create(store, { close: { value: async () => {} } }) as typeof store;
    const other = await startTestCluster({ store: shared });
    try {
      const agentDir = dataDir();
      const first = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-k', nodeIp: '127.0.0.1', dataDir: agentDir });
      assert.equal((await other.api('GET', '/api/v1/nodes', { token: first.token })).status, 200);
      await rm(credentialPaths(agentDir).nodeCredential);
      const second = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-k', nodeIp: '127.0.0.1', dataDir: agentDir });
      // The other server cached the first token's hash; a newer token makes it read the Secret again.
      await eventually(async () => ((await other.api('GET', '/api/v1/nodes', { token: second.token })).status === 200 ? true : undefined), 3_000, 'the other server to accept the new token');
    } finally {
      await other.close();
    }
  });

  test('a corrupt stored credential file leads to a fresh join', async () => {
    const agentDir = dataDir();
    const first = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-j', nodeIp: '127.0.0.1', dataDir: agentDir });
    await writeFile(credentialPaths(agentDir).nodeCredential, '{ not json');
    const second = await joinCluster({ server: cluster.url, token: cluster.controlPlane.nodeToken, nodeName: 'node-j', nodeIp: '127.0.0.1', dataDir: agentDir });
    assert.notEqual(second.token, first.token);
    assert.equal((await cluster.api('GET', '/api/v1/nodes', { token: second.token })).status, 200);
  });
});
