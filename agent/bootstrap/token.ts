// The join token as the agent reads it: k3s's secure format `K10<sha256 of the cluster CA>::<credentials>`
// (the server's controlplane/apiserver/auth.ts writes it), or a bare secret ("short token") that
// pins no CA. The agent presents the whole token as its bearer token when it joins.

import { createHash, X509Certificate } from 'node:crypto';

export interface JoinToken {
  /** The whole token, as presented to the server. */
  text: string;
  /** sha256 hex of the cluster CA certificate (DER); undefined for a short token. */
  caHash?: string;
}

export function parseJoinToken(raw: string): JoinToken {
  const text = raw.trim();
  if (!text) throw new Error('the join token is empty');
  if (!text.startsWith('K10') || !text.includes('::')) return { text };
  const caHash = text.slice(3, text.indexOf('::')).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(caHash)) throw new Error('invalid join token: the CA hash after K10 must be 64 hex digits (sha256)');
  if (text.length <= text.indexOf('::') + 2) throw new Error('invalid join token: no credentials after the CA hash');
  return { text, caHash };
}

/** sha256 hex of a PEM certificate's DER bytes: what a join token pins. */
export function certificateHash(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
