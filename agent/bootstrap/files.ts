// What the join leaves in the agent's data directory, under `credentials/`, so that a restarted
// agent needs neither the server nor the join token to come back:
//
//   ca.crt                 the cluster CA, pinned by the join token's hash
//   node-password          this machine's claim on its node name (random, 0600; see the server's nodeidentity.ts)
//   node-credential.json   {nodeName, caHash, token}: the node's own bearer token (0600)
//   serving.crt / .key     the certificate of the agent's HTTPS endpoint (key 0600)

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CredentialPaths {
  dir: string;
  ca: string;
  nodePassword: string;
  nodeCredential: string;
  servingCert: string;
  servingKey: string;
}

export function credentialPaths(dataDir: string): CredentialPaths {
  const dir = join(dataDir, 'credentials');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    nodePassword: join(dir, 'node-password'),
    nodeCredential: join(dir, 'node-credential.json'),
    servingCert: join(dir, 'serving.crt'),
    servingKey: join(dir, 'serving.key'),
  };
}

export async function ensureCredentialDir(paths: CredentialPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Temporary file + rename, created with its final mode: a crash never leaves half a key. */
export async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content, { mode, flag: 'wx' });
  await rename(temporary, path);
}

/** This machine's node password, created on first use. */
export async function ensureNodePassword(paths: CredentialPaths): Promise<string> {
  const existing = (await readIfExists(paths.nodePassword))?.trim();
  if (existing) return existing;
  const password = randomBytes(32).toString('hex');
  await writeAtomic(paths.nodePassword, `${password}\n`, 0o600);
  return password;
}

export interface StoredNodeCredential {
  nodeName: string;
  caHash: string;
  token: string;
}

export async function readNodeCredential(paths: CredentialPaths): Promise<StoredNodeCredential | undefined> {
  const text = await readIfExists(paths.nodeCredential);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<StoredNodeCredential>;
    if (typeof parsed.nodeName === 'string' && typeof parsed.caHash === 'string' && typeof parsed.token === 'string') {
      return { nodeName: parsed.nodeName, caHash: parsed.caHash, token: parsed.token };
    }
  } catch {
    // unreadable: join again
  }
  return undefined;
}

export async function writeNodeCredential(paths: CredentialPaths, credential: StoredNodeCredential): Promise<void> {
  await writeAtomic(paths.nodeCredential, `${JSON.stringify(credential, null, 2)}\n`, 0o600);
}
