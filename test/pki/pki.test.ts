import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerSans, ensurePki, issueCertificate, loadCertificateAuthority } from '../../controlplane/apiserver/pki.js';

/** One HTTPS request to 127.0.0.1 trusting only `caPem`; resolves with the body or rejects with the TLS error. */
function fetchOverTls(port: number, caPem: string, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca: caPem, servername, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

describe('ensurePki', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-pki-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('creates a CA and a serving certificate once, then reuses the same bytes', async () => {
    const reissued: string[] = [];
    const first = await ensurePki(dir, { hostname: 'node-a', serviceIP: '10.43.0.1' }, (what) => reissued.push(what));
    assert.deepEqual(reissued, ['cluster CA', 'API server serving certificate']);
    const second = await ensurePki(dir, { hostname: 'node-a', serviceIP: '10.43.0.1' }, (what) => reissued.push(what));
    assert.equal(reissued.length, 2, 'nothing reissued on the second start');
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.equal(await readFile(first.paths.caCert, 'utf8'), first.caCertPem);
    assert.equal(await readFile(first.paths.key, 'utf8'), first.keyPem);
  });

  test('keys are mode 0600 and the directory 0700', async () => {
    const pki = await ensurePki(dir, { hostname: 'node-a' });
    assert.equal((await stat(pki.paths.caKey)).mode & 0o777, 0o600);
    assert.equal((await stat(pki.paths.key)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  test('the CA is a P-256 CA valid for about ten years; the fingerprint is sha256 of its DER', async () => {
    const pki = await ensurePki(dir, { hostname: 'node-a' });
    const ca = new X509Certificate(pki.caCertPem);
    assert.equal(ca.ca, true);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (Date.parse(ca.validTo) - Date.now()) / (365 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1, `CA valid for ${years} years`);
    assert.equal(pki.caFingerprintSha256, createHash('sha256').update(ca.raw).digest('hex'));
    assert.match(pki.caFingerprintSha256, /^[0-9a-f]{64}$/);
  });

  test('the serving certificate carries the API server names, is signed by the CA and lasts about a year', async () => {
    const pki = await ensurePki(dir, { hostname: 'node-a' });
    const cert = new X509Certificate(pki.certPem);
    const ca = new X509Certificate(pki.caCertPem);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(ca));
    assert.ok(cert.verify(ca.publicKey));
    for (const name of ['localhost', 'node-a', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']) {
      assert.equal(cert.checkHost(name), name, name);
    }
    for (const ip of ['127.0.0.1', '10.43.0.1', '::1']) assert.equal(cert.checkIP(ip), ip, ip);
    assert.equal(cert.checkHost('elsewhere.example'), undefined);
    const days = (Date.parse(cert.validTo) - Date.now()) / (24 * 3600 * 1000);
    assert.ok(days > 364 && days < 366, `serving certificate valid for ${days} days`);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });

  test('a real HTTPS server with the certificate is trusted with the CA as the only root', async () => {
    const pki = await ensurePki(dir, { hostname: 'node-a' });
    const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) => res.end('ok'));
    const port = await listen(server);
    try {
      assert.equal(await fetchOverTls(port, pki.caCertPem, 'localhost'), 'ok');
      assert.equal(await fetchOverTls(port, pki.caCertPem, '127.0.0.1'), 'ok');
      assert.equal(await fetchOverTls(port, pki.caCertPem, 'kubernetes.default.svc'), 'ok');
      await assert.rejects(fetchOverTls(port, pki.caCertPem, 'wrong.example'), /altnames|Hostname/i);
      const otherDir = await mkdtemp(join(tmpdir(), 'skiff-pki-other-'));
      try {
        const other = await ensurePki(otherDir, { hostname: 'node-a' });
        await assert.rejects(fetchOverTls(port, other.caCertPem, 'localhost'), /self.signed|unable to verify|certificate/i);
      } finally {
        await rm(otherDir, { recursive: true, force: true });
      }
    } finally {
      await close(server);
    }
  });

  test('the serving certificate is reissued when a requested name is missing, keeping the CA', async () => {
    const earlier = await ensurePki(dir, { hostname: 'node-a' });
    const reasons: string[] = [];
    const later = await ensurePki(
      dir,
      { hostname: 'node-a', bindAddress: '192.168.5.7', extraSans: ['api.example.com', '10.0.0.9'] },
      (_what, why) => reasons.push(why),
    );
    assert.equal(later.caCertPem, earlier.caCertPem);
    assert.notEqual(later.certPem, earlier.certPem);
    assert.notEqual(later.keyPem, earlier.keyPem);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /lacks api\.example\.com, 192\.168\.5\.7, 10\.0\.0\.9/);
    const cert = new X509Certificate(later.certPem);
    assert.equal(cert.checkIP('192.168.5.7'), '192.168.5.7');
    assert.equal(cert.checkIP('10.0.0.9'), '10.0.0.9');
    assert.equal(cert.checkHost('api.example.com'), 'api.example.com');
    // Asking again for the same names reuses it.
    const again = await ensurePki(dir, { hostname: 'node-a', bindAddress: '192.168.5.7', extraSans: ['api.example.com', '10.0.0.9'] });
    assert.equal(again.certPem, later.certPem);
  });

  test('the serving certificate is reissued within 30 days of expiry', async () => {
    const current = await ensurePki(dir, { hostname: 'node-a' });
    const notAfter = Date.parse(new X509Certificate(current.certPem).validTo);
    const reasons: string[] = [];
    const nearExpiry = new Date(notAfter - 10 * 24 * 3600 * 1000);
    const renewed = await ensurePki(dir, { hostname: 'node-a', now: nearExpiry }, (_what, why) => reasons.push(why));
    assert.deepEqual(reasons, ['it expires within 30 days']);
    assert.ok(Date.parse(new X509Certificate(renewed.certPem).validTo) > notAfter);
  });

  test('a serving key that does not match its certificate is replaced', async () => {
    const current = await ensurePki(dir, { hostname: 'node-a' });
    const stray = await issueCertificate(current.ca, { commonName: 'stray', usage: 'server' });
    await writeFile(current.paths.key, stray.keyPem);
    const reasons: string[] = [];
    const fixed = await ensurePki(dir, { hostname: 'node-a' }, (_what, why) => reasons.push(why));
    assert.deepEqual(reasons, ['the key does not match the certificate']);
    assert.ok(new X509Certificate(fixed.certPem).checkPrivateKey((await import('node:crypto')).createPrivateKey(fixed.keyPem)));
  });

  test('a CA certificate without its key is an error, not a silent new CA', async () => {
    const lonely = await mkdtemp(join(tmpdir(), 'skiff-pki-lonely-'));
    try {
      const pki = await ensurePki(lonely, { hostname: 'node-a' });
      await unlink(pki.paths.caKey);
      await assert.rejects(ensurePki(lonely, { hostname: 'node-a' }), /ca\.key is missing/);
      await assert.rejects(loadCertificateAuthority(lonely), /ca\.key is missing/);
    } finally {
      await rm(lonely, { recursive: true, force: true });
    }
  });
});

describe('apiServerSans', () => {
  test('adds the bind address unless it is a wildcard or loopback, and the service IP', () => {
    const sans = apiServerSans({ hostname: 'Server-1', bindAddress: '0.0.0.0', serviceIP: '10.96.0.1' });
    assert.deepEqual(sans.dnsNames, ['localhost', 'server-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
    assert.deepEqual(sans.ips, ['127.0.0.1', '::1', '10.96.0.1']);
    assert.deepEqual(apiServerSans({ hostname: 'h', bindAddress: '10.1.2.3' }).ips, ['127.0.0.1', '::1', '10.1.2.3', '10.43.0.1']);
    assert.deepEqual(apiServerSans({ hostname: 'h', bindAddress: '::' }).ips, ['127.0.0.1', '::1', '10.43.0.1']);
    assert.deepEqual(apiServerSans({ hostname: 'h', extraSans: ['0:0:0:0:0:0:0:1', 'LB.example.com'] }).dnsNames.at(-1), 'lb.example.com');
  });
});

describe('issueCertificate', () => {
  test('issues client certificates with groups in O and client usage only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-pki-issue-'));
    try {
      const pki = await ensurePki(dir, { hostname: 'node-a' });
      const client = await issueCertificate(pki.ca, {
        commonName: 'system:node:worker-1',
        organizations: ['system:nodes'],
        usage: 'client',
        validityDays: 30,
      });
      const cert = new X509Certificate(client.certPem);
      assert.match(cert.subject, /CN=system:node:worker-1/);
      assert.match(cert.subject, /O=system:nodes/);
      assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
      assert.ok(cert.verify(new X509Certificate(pki.caCertPem).publicKey));
      const agentServing = await issueCertificate(pki.ca, { commonName: 'worker-1', dnsNames: ['worker-1'], ips: ['192.168.1.20'], usage: 'server' });
      assert.equal(new X509Certificate(agentServing.certPem).checkIP('192.168.1.20'), '192.168.1.20');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
