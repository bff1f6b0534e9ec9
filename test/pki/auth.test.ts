import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_USER,
  NODE_BOOTSTRAP_USER,
  TokenAuthenticator,
  bearerToken,
  ensureTokens,
  formatNodeToken,
  loadAuthentication,
  parseNodeToken,
} from '../../controlplane/apiserver/auth.js';
import { createCertificateAuthority, ensurePki } from '../../controlplane/apiserver/pki.js';

describe('server tokens', () => {
  let dir: string;
  let caCertPem: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-auth-'));
    caCertPem = (await ensurePki(join(dir, 'tls'), { hostname: 'node-a' })).caCertPem;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('are created once with mode 0600 and reused', async () => {
    const first = await ensureTokens(dir, caCertPem);
    assert.match(first.adminToken, /^[A-Za-z0-9_-]{43,}$/, '32 random bytes, base64url');
    assert.equal((await stat(first.paths.adminToken)).mode & 0o777, 0o600);
    assert.equal((await stat(first.paths.nodeToken)).mode & 0o777, 0o600);
    assert.equal((await readFile(first.paths.adminToken, 'utf8')).trim(), first.adminToken);
    const second = await ensureTokens(dir, caCertPem);
    assert.equal(second.adminToken, first.adminToken);
    assert.equal(second.nodeToken, first.nodeToken);
  });

  test('the node token pins the CA by the sha256 of its DER', async () => {
    const { nodeToken } = await ensureTokens(dir, caCertPem);
    const expectedHash = createHash('sha256').update(new X509Certificate(caCertPem).raw).digest('hex');
    assert.match(nodeToken, /^K10[0-9a-f]{64}::node:[A-Za-z0-9_-]{43,}$/);
    const parsed = parseNodeToken(nodeToken);
    assert.equal(parsed.caHash, expectedHash);
    assert.equal(parsed.username, 'node');
    assert.equal(formatNodeToken(parsed.caHash!, parsed.secret), nodeToken);
  });

  test('a new CA keeps the node secret and updates the hash', async () => {
    const earlier = parseNodeToken((await ensureTokens(dir, caCertPem)).nodeToken);
    const otherCa = await createCertificateAuthority('other-ca');
    const later = parseNodeToken((await ensureTokens(dir, otherCa.certPem)).nodeToken);
    assert.equal(later.secret, earlier.secret);
    assert.notEqual(later.caHash, earlier.caHash);
    await ensureTokens(dir, caCertPem); // put the original back for the other tests
  });

  test('authenticate accepts the right tokens and rejects wrong or missing ones', async () => {
    const { authenticator, adminToken, nodeToken } = await loadAuthentication(dir, caCertPem);
    const secret = parseNodeToken(nodeToken).secret;
    assert.deepEqual(authenticator.authenticate(`Bearer ${adminToken}`), ADMIN_USER);
    assert.deepEqual(authenticator.authenticate(`bearer ${adminToken}`), ADMIN_USER);
    assert.deepEqual(authenticator.authenticate(`  Bearer ${adminToken}  `), ADMIN_USER);
    assert.deepEqual(ADMIN_USER, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    assert.deepEqual(authenticator.authenticate(`Bearer ${nodeToken}`), NODE_BOOTSTRAP_USER);
    assert.deepEqual(authenticator.authenticate(`Bearer ${secret}`), NODE_BOOTSTRAP_USER);
    assert.deepEqual(NODE_BOOTSTRAP_USER.groups, ['system:nodes', 'system:authenticated']);

    const rejected = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${adminToken}`,
      adminToken,
      `Bearer ${adminToken}x`,
      `Bearer ${adminToken.slice(0, -1)}`,
      `Bearer K10${'0'.repeat(64)}::node:${secret}`, // right secret, wrong CA hash
      `Bearer ${nodeToken.replace('::node:', '::other:')}`,
      `Bearer ${nodeToken}x`,
      'Bearer K10nothex::node:x',
    ];
    for (const header of rejected) assert.equal(authenticator.authenticate(header), undefined, String(header));
  });

  test('a token file edited by hand (trailing newline) still works', async () => {
    const tokens = await ensureTokens(dir, caCertPem);
    await writeFile(tokens.paths.adminToken, `${tokens.adminToken}\n\n`);
    const reread = await ensureTokens(dir, caCertPem);
    assert.equal(reread.adminToken, tokens.adminToken);
  });
});

describe('parseNodeToken', () => {
  const hash = 'ab'.repeat(32);
  test('the secure format', () => {
    assert.deepEqual(parseNodeToken(`K10${hash}::node:s3cret\n`), { caHash: hash, username: 'node', secret: 's3cret' });
    assert.deepEqual(parseNodeToken(`K10${hash.toUpperCase()}::tok`), { caHash: hash, secret: 'tok' });
  });
  test('a short token is just a secret, without CA pinning', () => {
    assert.deepEqual(parseNodeToken('s3cret'), { secret: 's3cret' });
  });
  test('malformed tokens', () => {
    assert.throws(() => parseNodeToken(''), /empty/);
    assert.throws(() => parseNodeToken('K10abc::node:x'), /64 hex digits/);
    assert.throws(() => parseNodeToken(`K10${hash}::node:`), /no secret/);
  });
});

describe('bearerToken', () => {
  test('reads the token as Kubernetes does', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER abc extra'), 'abc');
    assert.equal(bearerToken('Bearer  abc'), undefined, 'an empty token between two spaces');
    assert.equal(bearerToken('Token abc'), undefined);
  });
  test('TokenAuthenticator needs a node token with a CA hash', () => {
    assert.throws(() => new TokenAuthenticator({ adminToken: 'a', nodeToken: 'short' }), /CA hash/);
  });
});
