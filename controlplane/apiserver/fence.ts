// Fenced writes: a controller-manager that may have lost its leadership must not write. A leader
// sends the Lease it holds and its identity with every write; the API server commits the write
// only if, at commit, the Lease still names that holder (a store `check` on the Lease's revision
// in the same transaction). The check names the revision at which the fence last saw the Lease
// held by the writer: a renewal since then moves the revision, the check fails, and the registry
// resolves the fence again from the store, so only a change of holder makes the write fail.

import type { IncomingMessage } from 'node:http';
import { FENCE_RESOURCE } from '../../api/client.js';
import { conflict, badRequest } from '../../api/errors.js';
import type { Fence, Registry } from './registry/registry.js';
import { objectStorageKey } from './registry/codec.js';

/** `<namespace>/<name>` of the Lease the writer holds. */
export const LEADER_LEASE_HEADER = 'skiff-leader-lease';
/** The holderIdentity the writer wrote into that Lease. */
export const LEADER_IDENTITY_HEADER = 'skiff-leader-identity';

export function fenceFromRequest(req: IncomingMessage, leases: Registry): Fence | undefined {
  const lease = req.headers[LEADER_LEASE_HEADER];
  const identity = req.headers[LEADER_IDENTITY_HEADER];
  if (lease === undefined && identity === undefined) return undefined;
  if (typeof lease !== 'string' || typeof identity !== 'string' || !lease.includes('/') || !identity) {
    throw badRequest(`${LEADER_LEASE_HEADER} must be "<namespace>/<name>" and ${LEADER_IDENTITY_HEADER} non-empty`);
  }
  const [namespace, name] = lease.split('/', 2) as [string, string];
  return {
    async resolve(fresh) {
      let current = await leaseHolder(leases, namespace, name, fresh);
      // Only the store may refuse a write: a remembered answer naming another holder is re-read.
      if (!fresh && current?.holder !== identity) current = await leaseHolder(leases, namespace, name, true);
      // A 409 on the Lease, not on the object written (isFencedOut): re-reading the object cannot cure it.
      if (!current) throw conflict(FENCE_RESOURCE, name, `this write is fenced by lease ${lease}, which does not exist`);
      if (current.holder !== identity) {
        throw conflict(FENCE_RESOURCE, name, `this write is fenced by lease ${lease}, held by "${current.holder}" and not by "${identity}"`);
      }
      return { op: 'check', key: current.key, expectedModRevision: current.modRevision };
    },
  };
}

/**
 * The holder of a Lease at the revision last read. Every fenced write asks, so the answer is
 * kept: a Lease is read and decoded once per renewal, not once per write (the check op makes a
 * stale answer fail at commit, and the retry reads afresh).
 */
const holders = new WeakMap<Registry, Map<string, { modRevision: number; holder: string }>>();

async function leaseHolder(
  leases: Registry,
  namespace: string,
  name: string,
  fresh: boolean,
): Promise<{ key: string; modRevision: number; holder: string } | undefined> {
  const key = objectStorageKey(leases.resource, namespace, name);
  const known = fresh ? undefined : holders.get(leases)?.get(key);
  if (known) return { key, ...known };
  const kv = await leases.getStored(namespace, name);
  if (!kv) return undefined;
  let byKey = holders.get(leases);
  if (!byKey) holders.set(leases, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached?.modRevision === kv.modRevision) return { key, ...cached };
  const spec = (JSON.parse(kv.value) as { spec?: { holderIdentity?: string } }).spec;
  const entry = { modRevision: kv.modRevision, holder: spec?.holderIdentity ?? '' };
  byKey.set(key, entry);
  return { key, ...entry };
}
