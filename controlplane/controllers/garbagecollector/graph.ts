// The garbage collector's picture of ownership: every watched object by uid, with its owner
// references, and for every uid the objects that name it as owner. Owners need not be in the
// graph (a deleted owner, or one of a kind that is not watched): those are "virtual" until
// the collector has looked them up.

import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';

export interface GraphNode {
  uid: string;
  resource: ResourceType;
  namespace: string | undefined;
  name: string;
  owners: readonly OwnerReference[];
  /** metadata.deletionTimestamp is set. */
  deleting: boolean;
  finalizers: readonly string[];
}

export class OwnershipGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Records an object; returns the entry it replaced, if any. */
  upsert(resource: ResourceType, obj: KubeObject): { node: GraphNode; previous: GraphNode | undefined } {
    const meta = obj.metadata ?? {};
    const node: GraphNode = {
      uid: meta.uid ?? '',
      resource,
      namespace: meta.namespace,
      name: meta.name ?? '',
      owners: meta.ownerReferences ?? [],
      deleting: !!meta.deletionTimestamp,
      finalizers: meta.finalizers ?? [],
    };
    const previous = this.nodes.get(node.uid);
    if (previous) this.unlink(previous);
    this.nodes.set(node.uid, node);
    for (const owner of node.owners) {
      let set = this.dependents.get(owner.uid);
      if (!set) this.dependents.set(owner.uid, (set = new Set()));
      set.add(node.uid);
    }
    return { node, previous };
  }

  remove(uid: string): GraphNode | undefined {
    const node = this.nodes.get(uid);
    if (!node) return undefined;
    this.unlink(node);
    this.nodes.delete(uid);
    return node;
  }

  /** The objects (in the graph) that name `uid` as an owner. */
  dependentsOf(uid: string): GraphNode[] {
    const set = this.dependents.get(uid);
    if (!set) return [];
    const result: GraphNode[] = [];
    for (const dep of set) {
      const node = this.nodes.get(dep);
      if (node) result.push(node);
    }
    return result;
  }

  private unlink(node: GraphNode): void {
    for (const owner of node.owners) {
      const set = this.dependents.get(owner.uid);
      set?.delete(node.uid);
      if (set?.size === 0) this.dependents.delete(owner.uid);
    }
  }
}

/** The reference from `dependent` to the owner `ownerUid`, if any. */
export function referenceTo(dependent: GraphNode, ownerUid: string): OwnerReference | undefined {
  return dependent.owners.find((o) => o.uid === ownerUid);
}
