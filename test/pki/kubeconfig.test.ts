import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readKubeconfig, writeKubeconfig } from '../../api/kubeconfig.js';
import { createCertificateAuthority } from '../../controlplane/apiserver/pki.js';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';

async function kubectlConfigView(file: string, jsonpath: string): Promise<string> {
  // `kubectl config view` only reads the file; it never contacts a server.
  const { stdout } = await run(KUBECTL, ['config', 'view', '--kubeconfig', file, '--raw', '-o', `jsonpath=${jsonpath}`], {
    env: { ...process.env, KUBECONFIG: '' },
  });
  return stdout;
}

describe('kubeconfig', () => {
  let dir: string;
  let caPem: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-kubeconfig-'));
    caPem = (await createCertificateAuthority('test-ca')).certPem;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('written with mode 0600 and read back', async () => {
    const file = join(dir, 'nested', 'admin.kubeconfig');
    await writeKubeconfig(file, { server: 'https://127.0.0.1:6443', caPem, token: 'tok-123' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readKubeconfig(file), {
      contextName: 'skiff',
      server: 'https://127.0.0.1:6443',
      caPem,
      token: 'tok-123',
    });
  });

  test('the real kubectl reads the token, server, CA and current context', async () => {
    const file = join(dir, 'kubectl.kubeconfig');
    await writeKubeconfig(file, {
      server: 'https://127.0.0.1:7443',
      caPem,
      token: 'secret-token',
      clusterName: 'lab',
      userName: 'lab-admin',
      contextName: 'lab-ctx',
      namespace: 'apps',
    });
    assert.equal(await kubectlConfigView(file, '{.users[0].user.token}'), 'secret-token');
    assert.equal(await kubectlConfigView(file, '{.clusters[0].cluster.server}'), 'https://127.0.0.1:7443');
    assert.equal(await kubectlConfigView(file, '{.current-context}'), 'lab-ctx');
    assert.equal(await kubectlConfigView(file, '{.contexts[0].context.namespace}'), 'apps');
    const caData = await kubectlConfigView(file, '{.clusters[0].cluster.certificate-authority-data}');
    assert.equal(Buffer.from(caData, 'base64').toString('utf8'), caPem);
    const connection = await readKubeconfig(file);
    assert.equal(connection.contextName, 'lab-ctx');
    assert.equal(connection.namespace, 'apps');
  });

  test('rewriting replaces the file', async () => {
    const file = join(dir, 'rewrite.kubeconfig');
    await writeKubeconfig(file, { server: 'https://127.0.0.1:6443', caPem, token: 'one' });
    await writeKubeconfig(file, { server: 'https://127.0.0.1:6443', caPem, token: 'two' });
    assert.equal((await readKubeconfig(file)).token, 'two');
  });

  test('file references are relative to the kubeconfig, and a context can be chosen', async () => {
    const sub = join(dir, 'refs');
    await mkdir(join(sub, 'pki'), { recursive: true });
    await writeFile(join(sub, 'pki', 'ca.crt'), caPem);
    await writeFile(join(sub, 'token'), 'from-file\n');
    const file = join(sub, 'config');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: a',
        'clusters:',
        '- name: c1',
        '  cluster: { server: "https://10.0.0.1:6443", certificate-authority: pki/ca.crt }',
        '- name: c2',
        '  cluster: { server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true }',
        'users:',
        '- name: u1',
        '  user: { tokenFile: token }',
        'contexts:',
        '- name: a',
        '  context: { cluster: c1, user: u1 }',
        '- name: b',
        '  context: { cluster: c2 }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(await readKubeconfig(file), { contextName: 'a', server: 'https://10.0.0.1:6443', caPem, token: 'from-file' });
    assert.deepEqual(await readKubeconfig(file, 'b'), { contextName: 'b', server: 'https://10.0.0.2:6443', insecureSkipTLSVerify: true });
    await assert.rejects(readKubeconfig(file, 'missing'), /context "missing" does not exist/);
  });

  test('broken kubeconfigs are reported with the file name', async () => {
    const file = join(dir, 'broken');
    await writeFile(file, 'apiVersion: v1\nkind: Config\n');
    await assert.rejects(readKubeconfig(file), new RegExp(`${file}: current-context is not set`));
    await writeFile(file, 'current-context: x\ncontexts: [{name: x, context: {cluster: nowhere}}]\n');
    await assert.rejects(readKubeconfig(file), /cluster "nowhere" does not exist/);
  });
});
