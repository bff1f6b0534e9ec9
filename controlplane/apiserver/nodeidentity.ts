// Per-node identities. The shared join token only says "some node of this cluster"; on join an
// agent trades it for a bearer token bound to one node name (`system:node:<name>` in
// `system:nodes`, what Kubernetes' Node authorizer expects), so that the node can then be held to
// its own Node, Lease and pods (see nodeauth.ts).
//
// A node name is claimed with a node password, as k3s does: the first agent to join under a name
// sends a random password it keeps in its data directory; later joins under that name must send
// the same password, so another machine cannot take over an existing node. Both the password's
// scrypt hash and the current token's sha256 live in a Secret `kube-system/<name>.node-password.skiff`,
// so every server of an HA cluster sees them, and deleting that Secret frees the name (the
// nodepassword controller deletes it with the Node, so a reinstalled machine can take its old
// name back after `kubectl delete node`). A new join under a name replaces its token (the old
// one stops working).

import { hash as oneShotHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { badRequest, conflict, forbidden, StatusError } from '../../api/errors.js';
import { isDNS1123Subdomain } from '../../api/names.js';
import { NODE_PASSWORD_NAMESPACE, nodePasswordSecretName } from '../../api/node-password.js';
import type { KubeObject } from '../../api/objects.js';
import type { Registry } from './registry/registry.js';
import { nodeUser } from './nodeauth.js';
import type { User } from './server.js';
import { bearerToken } from './auth.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const NODE_IDENTITY_NAMESPACE = NODE_PASSWORD_NAMESPACE;
const SECRET_TYPE = 'skiff.io/node-password';
const TOKEN_PREFIX = 'skiff-node:';
const MIN_PASSWORD_LENGTH = 16;
/** How long a looked-up token hash is trusted before the Secret is read again. */
const DEFAULT_CACHE_TTL_MS = 10_000;
/** A token that does not match the cached hash re-reads the Secret, at most this often per node. */
const MISMATCH_RECHECK_MS = 1_000;

export const nodeIdentitySecretName = nodePasswordSecretName;

function sha256(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt:${salt.toString('base64')}:${hash.toString('base64')}`;
}

async function passwordMatches(stored: string, password: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split(':');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

interface IdentityRecord {
  passwordHash: string;
  tokenHash: string;
}

function decodeField(secret: KubeObject, key: string): string | undefined {
  const value = (secret['data'] as Record<string, string> | undefined)?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

function recordOf(secret: KubeObject): IdentityRecord | undefined {
  const passwordHash = decodeField(secret, 'passwordHash');
  const tokenHash = decodeField(secret, 'tokenHash');
  return passwordHash && tokenHash ? { passwordHash, tokenHash } : undefined;
}

function encodeRecord(record: IdentityRecord): Record<string, string> {
  return {
    passwordHash: Buffer.from(record.passwordHash).toString('base64'),
    tokenHash: Buffer.from(record.tokenHash).toString('base64'),
  };
}

/** The refusal a join gets when the name belongs to another machine (k3s's "node password rejected"). */
export function nodePasswordRejected(nodeName: string): StatusError {
  return forbidden(
    { group: '', resource: 'nodes' },
    nodeName,
    `node password rejected: node "${nodeName}" is already registered with another node password (a duplicate node name, ` +
      `or the agent's node-password file no longer matches); use another --node-name, or free the name with ` +
      `\`kubectl delete node ${nodeName}\` (or, if there is no such Node, by deleting the Secret ` +
      `${NODE_IDENTITY_NAMESPACE}/${nodeIdentitySecretName(nodeName)})`,
  );
}

export class NodeIdentities {
  private readonly cache = new Map<string, { tokenHash: string; at: number }>();

  constructor(
    private readonly secrets: () => Registry,
    private readonly cacheTtlMs = DEFAULT_CACHE_TTL_MS,
  ) {}

  /**
   * Registers (or re-registers) `nodeName` for the holder of `password` and returns the node's new
   * bearer token. Throws 400 for a bad name or password, 403 when the password does not match.
   */
  async issueToken(nodeName: string, password: string): Promise<string> {
    const nameErrors = isDNS1123Subdomain(nodeName);
    if (nameErrors.length > 0) throw badRequest(`invalid node name ${JSON.stringify(nodeName)}: ${nameErrors.join('; ')}`);
    if (nodeIdentitySecretName(nodeName).length > 253) throw badRequest(`invalid node name ${JSON.stringify(nodeName)}: too long`);
    if (password.length < MIN_PASSWORD_LENGTH) throw badRequest(`the node password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    const token = `${TOKEN_PREFIX}${nodeName}:${randomBytes(32).toString('base64url')}`;
    const tokenHash = sha256(token);
    const name = nodeIdentitySecretName(nodeName);
    const registry = this.secrets();
    for (let attempt = 0; attempt < 8; attempt++) {
      const existing = await registry.get(NODE_IDENTITY_NAMESPACE, name).catch((err: unknown) => {
        if (err instanceof StatusError && err.code === 404) return undefined;
        throw err;
      });
      if (existing === undefined) {
        const secret: KubeObject = {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: NODE_IDENTITY_NAMESPACE, labels: { 'skiff.io/node': nodeName } },
          type: SECRET_TYPE,
          data: encodeRecord({ passwordHash: await hashPassword(password), tokenHash }),
        };
        try {
          await registry.create(NODE_IDENTITY_NAMESPACE, secret);
        } catch (err) {
          if (err instanceof StatusError && err.reason === 'AlreadyExists') continue; // a concurrent join won; check its password
          throw err;
        }
      } else {
        const record = recordOf(existing);
        if (!record || !(await passwordMatches(record.passwordHash, password))) throw nodePasswordRejected(nodeName);
        try {
          await registry.mutate(NODE_IDENTITY_NAMESPACE, name, (current) => {
            // Only replace the token of the record whose password was just checked.
            if (recordOf(current)?.passwordHash !== record.passwordHash) throw conflict({ group: '', resource: 'secrets' }, name);
            return { ...current, data: encodeRecord({ ...record, tokenHash }) };
          });
        } catch (err) {
          if (err instanceof StatusError && (err.code === 409 || err.code === 404)) continue;
          throw err;
        }
      }
      this.cache.set(nodeName, { tokenHash, at: Date.now() });
      return token;
    }
    throw conflict({ group: '', resource: 'secrets' }, name, 'too many concurrent joins under this node name');
  }

  /** The node user a per-node bearer token proves, or undefined. */
  async authenticate(authorization: string | undefined): Promise<User | undefined> {
    const token = bearerToken(authorization);
    if (!token?.startsWith(TOKEN_PREFIX)) return undefined;
    const nodeName = token.slice(TOKEN_PREFIX.length, token.lastIndexOf(':'));
    if (!nodeName || nodeName.includes(':')) return undefined;
    const presented = sha256(token);
    let expected = await this.tokenHashOf(nodeName, this.cacheTtlMs);
    // Another server may have issued a newer token since this one cached the hash (an agent that
    // joined again): read the Secret again rather than refuse the new token for a whole TTL.
    if (expected !== undefined && !sameText(presented, expected)) expected = await this.tokenHashOf(nodeName, MISMATCH_RECHECK_MS);
    return expected !== undefined && sameText(presented, expected) ? nodeUser(nodeName) : undefined;
  }

  /** The node's current token hash, from the cache when it is younger than `maxAgeMs`. */
  private async tokenHashOf(nodeName: string, maxAgeMs: number): Promise<string | undefined> {
    const cached = this.cache.get(nodeName);
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.tokenHash;
    let secret: KubeObject;
    try {
      secret = await this.secrets().get(NODE_IDENTITY_NAMESPACE, nodeIdentitySecretName(nodeName));
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) {
        this.cache.delete(nodeName);
        return undefined;
      }
      throw err;
    }
    const tokenHash = recordOf(secret)?.tokenHash;
    if (tokenHash === undefined) return undefined;
    this.cache.set(nodeName, { tokenHash, at: Date.now() });
    return tokenHash;
  }
}
