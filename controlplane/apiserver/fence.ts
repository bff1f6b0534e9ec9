// Fenced writes: a controller-manager that may have lost its leadership must not write. A leader
// sends the Lease it holds and its identity with every write; the API server commits the write
// only if, at commit, the Lease still names that holder (a store `check` on the Lease's revision
// in the same transaction). A renewal moves the Lease's revision; the registry then resolves the
// fence again, so only a change of holder makes the write fail.

import type { IncomingMessage } from 'node:http';
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
  const gr = { group: 'coordination.k8s.io', resource: 'leases' };
  return {
    async resolve() {
      let current;
      try {
        current = await leases.get(namespace, name);
      } catch {
        throw conflict(gr, name, `this write is fenced by lease ${lease}, which does not exist`);
      }
      const holder = (current['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity ?? '';
      if (holder !== identity) {
        throw conflict(gr, name, `this write is fenced by lease ${lease}, held by "${holder}" and not by "${identity}"`);
      }
      return {
        op: 'check',
        key: objectStorageKey(leases.resource, namespace, name),
        expectedModRevision: Number(current.metadata?.resourceVersion),
      };
    },
  };
}
