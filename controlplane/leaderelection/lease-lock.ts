// The resource the election is fought over: a coordination.k8s.io/v1 Lease, read and written
// through the API with compare-and-swap on its resourceVersion (client-go's LeaseLock). Writes to
// the Lease itself are never fenced: they are what the fence is made of.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeClient } from '../../api/client.js';
import { isNotFound } from '../../api/client.js';
import { resourceFor, resourcePath } from '../../api/resources.js';
import {  } from '../../api/time.js';

const leases = resourceFor('coordination.k8s.io', 'leases');

/** A Lease whose metadata the server filled in (resourceVersion above all). */
export type StoredLease = Lease & { metadata: NonNullable<Lease['metadata']> };

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

export interface LeaseLock {
  readonly namespace: string;
  readonly name: string;
  /** The current Lease, or undefined when there is none. */
  get(signal?: AbortSignal): Promise<StoredLease | undefined>;
  /** Creates the Lease; throws AlreadyExists when another candidate was first. */
  create(record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease>;
  /** Replaces the record of `current`; throws Conflict when the Lease changed since. */
  update(current: StoredLease, record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease>;
}

export function recordOf(lease: Lease | undefined): Partial<LeaseRecord> {
  const spec = lease?.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

export class ApiLeaseLock implements LeaseLock {
  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    readonly name: string,
  ) {}

  async get(signal?: AbortSignal): Promise<StoredLease | undefined> {
    try {
      return await this.client.request<StoredLease>('GET', resourcePath(leases, this.namespace, this.name), { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create(record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: record,
    };
    return this.client.request<StoredLease>('POST', resourcePath(leases, this.namespace), { body, signal });
  }

  update(current: StoredLease, record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease> {
    // The PUT carries the resourceVersion we read: the server refuses it (409) if anyone wrote since.
    const body: Lease = { ...current, spec: { ...current.spec, ...record } };
    return this.client.request<StoredLease>('PUT', resourcePath(leases, this.namespace, this.name), { body, signal });
  }
}
