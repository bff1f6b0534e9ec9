// Owner references between a controller object and what it manages (pods, ReplicaSets,
// ControllerRevisions), and "claiming" as Kubernetes' ControllerRefManager does it: a controller
// owns the objects whose controller reference names it and that its selector still matches;
// it adopts orphans its selector matches (unless it is being deleted) and releases objects it
// owns that stopped matching. Objects controlled by someone else are never touched.

import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeClient } from '../../../api/client.js';
import { isNotFound } from '../../../api/client.js';
import type { LabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';

/** The owner reference with `controller: true`, if any (metav1.GetControllerOf). */
export function controllerRefOf(obj: { metadata?: { ownerReferences?: readonly OwnerReference[] } }): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The reference a controller puts on what it creates (metav1.NewControllerRef). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export type ClaimDecision = 'own' | 'adopt' | 'release' | 'ignore';

export interface ClaimingOwner {
  uid: string;
  /** The owner has a deletionTimestamp: it neither adopts nor releases any more. */
  deleting: boolean;
  selector: LabelSelector;
}

/** What a controller should do with one candidate object (ClaimObject's rules). */
export function claimDecision(owner: ClaimingOwner, obj: KubeObject): ClaimDecision {
  const ref = controllerRefOf(obj);
  const matches = owner.selector.matches(obj.metadata?.labels);
  if (ref) {
    if (ref.uid !== owner.uid) return 'ignore';
    if (matches) return 'own';
    return owner.deleting ? 'ignore' : 'release';
  }
  if (owner.deleting || !matches) return 'ignore';
  // An object on its way out is not worth adopting.
  if (obj.metadata?.deletionTimestamp) return 'ignore';
  return 'adopt';
}

export interface ClaimContext {
  client: KubeClient;
  /** The resource of the claimed objects (pods, replicasets, controllerrevisions). */
  resource: ResourceType;
  /** The resource of the owner (replicasets, deployments, daemonsets, jobs). */
  ownerResource: ResourceType;
  owner: KubeObject;
  selector: LabelSelector;
}

/**
 * Claims `candidates` for `ctx.owner`: returns the objects it owns afterwards (adopted ones
 * included). Adoption and release are strategic-merge patches of ownerReferences conditioned on
 * the object's resourceVersion, so they never overwrite a change the cache has not seen yet.
 * Before the first adoption the owner is read again from the API (not the cache) to make sure it
 * still exists with the same UID and is not being deleted, as Kubernetes does.
 */
export async function claimObjects<T extends KubeObject>(ctx: ClaimContext, candidates: readonly T[]): Promise<T[]> {
  const owner: ClaimingOwner = {
    uid: ctx.owner.metadata?.uid ?? '',
    deleting: !!ctx.owner.metadata?.deletionTimestamp,
    selector: ctx.selector,
  };
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let adoptionChecked: Promise<void> | undefined;
  await Promise.all(
    candidates.map(async (obj) => {
      const decision = claimDecision(owner, obj);
      try {
        if (decision === 'own') claimed.push(obj);
        else if (decision === 'adopt') {
          adoptionChecked ??= recheckOwner(ctx);
          await adoptionChecked;
          claimed.push(await adopt(ctx, obj));
        } else if (decision === 'release') {
          await release(ctx, obj);
        }
      } catch (err) {
        // Gone meanwhile: nothing to adopt or release.
        if (!isNotFound(err)) errors.push(err);
      }
    }),
  );
  if (errors.length > 0) throw errors[0];
  return claimed;
}

async function recheckOwner(ctx: ClaimContext): Promise<void> {
  const meta = ctx.owner.metadata ?? {};
  const fresh = await ctx.client.get(ctx.ownerResource, meta.namespace, meta.name ?? '');
  const what = `${ctx.ownerResource.kind} ${meta.namespace}/${meta.name}`;
  if (fresh.metadata?.uid !== meta.uid) throw new Error(`original ${what} is gone: got uid ${fresh.metadata?.uid}, wanted ${meta.uid}`);
  if (fresh.metadata?.deletionTimestamp) throw new Error(`${what} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}

async function adopt<T extends KubeObject>(ctx: ClaimContext, obj: T): Promise<T> {
  const ref = newControllerRef(ctx.owner, apiVersionOf(ctx.ownerResource), ctx.ownerResource.kind);
  return ctx.client.patch<T>(
    ctx.resource,
    obj.metadata?.namespace,
    obj.metadata?.name ?? '',
    { metadata: { ownerReferences: [ref], resourceVersion: obj.metadata?.resourceVersion } },
    'strategic',
  );
}

async function release(ctx: ClaimContext, obj: KubeObject): Promise<void> {
  await ctx.client.patch(
    ctx.resource,
    obj.metadata?.namespace,
    obj.metadata?.name ?? '',
    { metadata: { ownerReferences: [{ $patch: 'delete', uid: ctx.owner.metadata?.uid }], resourceVersion: obj.metadata?.resourceVersion } },
    'strategic',
  );
}
