// Continue tokens for paginated lists: the revision the first page was read at and the key to
// resume from, as kube-apiserver encodes them (base64 of a small JSON document). The key is
// stored relative to the list's prefix so that a token cannot be replayed against another
// collection to read keys outside it: every resumed key is the prefix plus the token's suffix.
// Skiff's tokens also carry how many items the list had left (`remain`): every page reads the
// same revision, so the next page's remainingItemCount follows from it without counting again.

import { expired } from '../../../api/errors.js';

export interface ContinuePosition {
  revision: number;
  startKey: string;
  /** Items of the list at `startKey` and after, when known. */
  remaining?: number;
}

interface TokenBody {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
  remain?: number;
}

export function encodeContinue(position: ContinuePosition, prefix: string): string {
  const body: TokenBody = { v: 'meta.k8s.io/v1', rv: position.revision, start: position.startKey.slice(prefix.length) };
  if (position.remaining !== undefined) body.remain = position.remaining;
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * A token that does not decode, or points outside the collection, is answered like an expired
 * one (410): the client's only sound recovery in both cases is to start the list again.
 */
export function decodeContinue(token: string, prefix: string): ContinuePosition {
  const invalid = () => expired(`the provided continue parameter is invalid or expired; start a new list without it`);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const b = body as Partial<TokenBody>;
  if (b.v !== 'meta.k8s.io/v1' || typeof b.rv !== 'number' || !Number.isInteger(b.rv) || b.rv <= 0 || typeof b.start !== 'string') {
    throw invalid();
  }
  if (b.remain !== undefined && !(typeof b.remain === 'number' && Number.isInteger(b.remain) && b.remain >= 0)) throw invalid();
  return { revision: b.rv, startKey: prefix + b.start, remaining: b.remain };
}
