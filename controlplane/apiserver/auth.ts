// Bearer-token authentication for the API server, and the two tokens `skiff server` hands out.
//
// On first start `ensureTokens` writes, with mode 0600:
//   admin-token   32 random bytes, base64url. Authenticates as `admin` in `system:masters` (the
//                 Kubernetes group that RBAC lets do anything); it goes into the admin kubeconfig.
//   node-token    `K10<sha256 hex of the CA certificate DER>::node:<secret>`, k3s's "secure token"
//                 format: an agent that holds it can pin the cluster CA before it trusts the server
//                 (fetch the CA without verification, hash it, compare, then verify TLS with it).
// Later starts reuse them. If the CA changed (its key and certificate were deliberately replaced),
// the node token keeps its secret and gets the new CA hash.
//
// A node presents either the whole node token or just its secret as its bearer token and is
// authenticated as `system:node-bootstrap` in group `system:nodes`: the shared token says "some
// node of this cluster", not which one. Per-node identities (`system:node:<name>`, as Kubernetes'
// Node authorizer expects) are to be issued on join. Every authenticated user also gets
// `system:authenticated`, as in Kubernetes.
//
// parseNodeToken is pure (node:crypto only) so that the agent can use it without the control plane.

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateFingerprintSha256, writeFileAtomic } from './pki.js';

export interface User {
  name: string;
  groups: string[];
}

export const ADMIN_USER: Readonly<User> = Object.freeze({ name: 'admin', groups: ['system:masters', 'system:authenticated'] });
export const NODE_BOOTSTRAP_USER: Readonly<User> = Object.freeze({
  name: 'system:node-bootstrap',
  groups: ['system:nodes', 'system:authenticated'],
});

const NODE_TOKEN_PREFIX = 'K10';
const NODE_USERNAME = 'node';

export interface NodeToken {
  /** sha256 hex of the cluster CA certificate (DER); absent for a short token (secret only, no CA pinning). */
  caHash?: string;
  /** The user part of `user:secret` credentials (`node` for Skiff's tokens). */
  username?: string;
  secret: string;
}

/**
 * Splits a node token: `K10<caHash>::<user>:<secret>`, `K10<caHash>::<secret>`, or a bare secret.
 * Throws on a `K10` token whose hash is not 64 hex digits or whose credentials are empty.
 */
export function parseNodeToken(text: string): NodeToken {
  const token = text.trim();
  if (!token.startsWith(NODE_TOKEN_PREFIX) || !token.includes('::')) {
    if (!token) throw new Error('invalid node token: empty');
    return { secret: token };
  }
  const separator = token.indexOf('::');
  const caHash = token.slice(NODE_TOKEN_PREFIX.length, separator).toLowerCase();
  const credentials = token.slice(separator + 2);
  if (!/^[0-9a-f]{64}$/.test(caHash)) throw new Error('invalid node token: the CA hash must be 64 hex digits (sha256)');
  const colon = credentials.indexOf(':');
  const parsed: NodeToken = colon < 0 ? { caHash, secret: credentials } : { caHash, username: credentials.slice(0, colon), secret: credentials.slice(colon + 1) };
  if (!parsed.secret) throw new Error('invalid node token: no secret after the CA hash');
  return parsed;
}

export function formatNodeToken(caHash: string, secret: string): string {
  return `${NODE_TOKEN_PREFIX}${caHash}::${NODE_USERNAME}:${secret}`;
}

/** sha256 hex of a PEM CA certificate's DER bytes: what a node token pins. */
export function caCertificateHash(caCertPem: string): string {
  return certificateFingerprintSha256(caCertPem);
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface ServerTokens {
  adminToken: string;
  nodeToken: string;
  paths: { adminToken: string; nodeToken: string };
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    return token || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads or creates `dir/admin-token` and `dir/node-token` (mode 0600). */
export async function ensureTokens(dir: string, caCertPem: string): Promise<ServerTokens> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = { adminToken: join(dir, 'admin-token'), nodeToken: join(dir, 'node-token') };
  const caHash = caCertificateHash(caCertPem);

  let adminToken = await readToken(paths.adminToken);
  if (!adminToken) {
    adminToken = randomToken();
    await writeFileAtomic(paths.adminToken, `${adminToken}\n`, 0o600);
  }

  let nodeToken = await readToken(paths.nodeToken);
  const existing = nodeToken ? parseNodeToken(nodeToken) : undefined;
  if (!nodeToken || existing?.caHash !== caHash) {
    nodeToken = formatNodeToken(caHash, existing?.secret ?? randomToken());
    await writeFileAtomic(paths.nodeToken, `${nodeToken}\n`, 0o600);
  }
  return { adminToken, nodeToken, paths };
}

/** One-shot sha256 (crypto.hash: no Hash object per call, which every request would pay for). */
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Equality that takes the same time wherever the strings differ (both sides are hashed to one length). */
function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of an `Authorization: Bearer <token>` header, as Kubernetes reads it; undefined otherwise. */
export function bearerToken(authorizationHeader: string | undefined): string | undefined {
  const header = authorizationHeader?.trim();
  if (!header) return undefined;
  const [scheme, token] = header.split(' ', 3);
  if (scheme?.toLowerCase() !== 'bearer' || !token) return undefined;
  return token;
}

export class TokenAuthenticator {
  private readonly node: NodeToken & { caHash: string };
  /** The admin token's and the node secret's digests, computed once: every request compares against them. */
  private readonly adminDigest: Buffer;
  private readonly nodeSecretDigest: Buffer;

  constructor(private readonly tokens: { adminToken: string; nodeToken: string }) {
    const node = parseNodeToken(tokens.nodeToken);
    if (!node.caHash) throw new Error('the server node token must carry the CA hash');
    this.node = { ...node, caHash: node.caHash };
    this.adminDigest = digest(tokens.adminToken);
    this.nodeSecretDigest = digest(node.secret);
  }

  /** The user an Authorization header proves, or undefined when it is missing, malformed or wrong. */
  authenticate(authorizationHeader: string | undefined): User | undefined {
    const token = bearerToken(authorizationHeader);
    if (token === undefined) return undefined;
    const presentedDigest = digest(token);
    if (timingSafeEqual(presentedDigest, this.adminDigest)) return ADMIN_USER;
    if (this.isNodeCredential(token, presentedDigest)) return NODE_BOOTSTRAP_USER;
    return undefined;
  }

  private isNodeCredential(token: string, tokenDigest: Buffer): boolean {
    // A bare secret (what a "short token" carries).
    if (timingSafeEqual(tokenDigest, this.nodeSecretDigest)) return true;
    let presented: NodeToken;
    try {
      presented = parseNodeToken(token);
    } catch {
      return false;
    }
    // The whole token: the same CA hash, user and secret.
    return (
      presented.caHash !== undefined &&
      constantTimeEquals(presented.caHash, this.node.caHash) &&
      constantTimeEquals(presented.username ?? '', this.node.username ?? '') &&
      constantTimeEquals(presented.secret, this.node.secret)
    );
  }
}

/** ensureTokens plus an authenticator over them: what `skiff server` needs at start. */
export async function loadAuthentication(dir: string, caCertPem: string): Promise<ServerTokens & { authenticator: TokenAuthenticator }> {
  const tokens = await ensureTokens(dir, caCertPem);
  return { ...tokens, authenticator: new TokenAuthenticator(tokens) };
}
