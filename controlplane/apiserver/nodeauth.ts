// Authorization of the API server's users, with Kubernetes' node rules (the Node authorizer
// plus the NodeRestriction admission plugin, reduced to what Skiff serves):
//
// - `system:masters` (the admin) may do anything.
// - A node (`system:node:<name>` in `system:nodes`) may read what a kubelet, and an in-process
//   proxy and DNS, read: nodes, pods, services, endpoints, endpointslices, namespaces; secrets and
//   configmaps only when a pod bound to it references them (get, or list/watch narrowed to one
//   name with `fieldSelector=metadata.name=`, which is how kubelet watches them). It may create,
//   update, patch and delete only its own Node (and nodes/status) and its own Lease in
//   kube-node-lease, update the status of and delete only the pods bound to it, and create and
//   update events.
// - Anyone else, including the join token's `system:node-bootstrap` (which may only call the
//   join endpoints, see nodejoin.ts), is refused.
//
// Refusals are 403 Forbidden with kube-apiserver's wording, so kubectl and client libraries
// print them as they would Kubernetes'.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { forbidden, StatusError } from '../../api/errors.js';
import type { GroupResource } from '../../api/errors.js';
import { parseFieldSelector } from '../../api/fields.js';
import type { KubeObject } from '../../api/objects.js';
import type { ResourceType } from '../../api/resources.js';
import type { RequestInfo, ResourceRequest } from './requestinfo.js';
import type { User } from './server.js';
import { podReferences } from './podreferences.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const MASTERS_GROUP = 'system:masters';

/** The node a user acts for, or undefined when the user is not a node identity. */
export function nodeNameOf(user: User): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name || undefined;
}

export function nodeUser(nodeName: string): User {
  return { name: `${NODE_USER_PREFIX}${nodeName}`, groups: [NODES_GROUP, 'system:authenticated'] };
}

export function isAdmin(user: User): boolean {
  return user.groups.includes(MASTERS_GROUP);
}

/** What the authorizer needs to know about pods (answered from the registry). */
export interface PodLookup {
  /** The pod, or undefined when it does not exist. */
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
  /** The pods of one namespace bound to the node. */
  podsOnNode(nodeName: string, namespace: string): Promise<Pod[]>;
}

// Paths every authenticated user may read (Kubernetes' system:discovery and
// system:public-info-viewer roles).
const PUBLIC_PATHS = /^\/(api|apis|version|openapi|healthz|livez|readyz)(\/|$)/;

const READABLE_BY_NODES = new Set(['/nodes', '/pods', '/services', '/endpoints', '/namespaces', 'discovery.k8s.io/endpointslices']);
const READ_VERBS = new Set(['get', 'list', 'watch']);

function key(r: ResourceType): string {
  return `${r.group}/${r.plural}`;
}

function scopeOf(namespace: string | undefined): string {
  return namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
}

/** `User "u" cannot patch resource "nodes/status" in API group "" at the cluster scope`, as RBAC words it. */
function cannot(user: User, info: ResourceRequest): string {
  const resource = info.subresource ? `${info.resource.plural}/${info.subresource}` : info.resource.plural;
  return `User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.resource.group}" ${scopeOf(info.namespace)}`;
}

function groupResource(r: ResourceType): GroupResource {
  return { group: r.group, resource: r.plural };
}

function refuse(user: User, info: ResourceRequest, why?: string): StatusError {
  return forbidden(groupResource(info.resource), info.name ?? '', why ? `${cannot(user, info)}: ${why}` : cannot(user, info));
}

function refusePath(user: User, method: string, path: string): StatusError {
  return new StatusError(403, 'Forbidden', `forbidden: User "${user.name}" cannot ${method.toLowerCase()} path "${path}"`, {});
}

/** The one name a list or watch is narrowed to by `fieldSelector=metadata.name=<name>`, if any. */
function singleNameOf(query: URLSearchParams): string | undefined {
  const raw = query.get('fieldSelector');
  if (!raw) return undefined;
  try {
    return parseFieldSelector(raw).requiresExactMatch('metadata.name');
  } catch {
    return undefined;
  }
}

export class NodeAuthorizer {
  constructor(private readonly pods: PodLookup) {}

  /** Throws Forbidden unless `user` may make the request. */
  async authorize(user: User, info: RequestInfo, query: URLSearchParams, method = 'GET'): Promise<void> {
    if (isAdmin(user)) return;
    const node = nodeNameOf(user);
    if (info.type !== 'resource') {
      const path = info.type === 'non-resource' ? info.path : '';
      // Unknown resources are answered with 404 for whoever may use the API at all.
      if (node !== undefined && (info.type === 'unknown-resource' || ((method === 'GET' || method === 'HEAD') && PUBLIC_PATHS.test(path)))) return;
      throw refusePath(user, method, path || '/');
    }
    if (node === undefined) throw refuse(user, info);
    await this.authorizeNode(user, node, info, query);
  }

  private async authorizeNode(user: User, node: string, info: ResourceRequest, query: URLSearchParams): Promise<void> {
    const { resource, verb, subresource, name, namespace } = info;
    const k = key(resource);
    if (READABLE_BY_NODES.has(k) && READ_VERBS.has(verb) && subresource === undefined) return;

    switch (k) {
      case '/nodes':
        // Kubernetes lets a node create, update, patch and delete its own Node object only.
        if (verb === 'create' && subresource === undefined) return; // the name is checked at admission
        if ((verb === 'update' || verb === 'patch' || verb === 'delete') && (subresource === undefined || subresource === 'status')) {
          if (name === node) return;
          throw refuse(user, info, `node '${node}' cannot modify node '${name ?? ''}'`);
        }
        break;
      case 'coordination.k8s.io/leases':
        if (namespace === NODE_LEASE_NAMESPACE && ['get', 'create', 'update', 'patch', 'delete'].includes(verb)) {
          if (verb === 'create' || name === node) return;
          throw refuse(user, info, 'can only access node lease with the same name as the requesting node');
        }
        break;
      case '/pods':
        if ((verb === 'update' || verb === 'patch') && subresource === 'status') {
          await this.requirePodOnNode(user, node, info, 'can only update pod status for pods with spec.nodeName set to itself');
          return;
        }
        if (verb === 'delete' && subresource === undefined) {
          await this.requirePodOnNode(user, node, info, 'can only delete pods with spec.nodeName set to itself');
          return;
        }
        break;
      case '/secrets':
      case '/configmaps': {
        const target = verb === 'get' ? name : verb === 'list' || verb === 'watch' ? singleNameOf(query) : undefined;
        if (target !== undefined && namespace !== undefined && subresource === undefined) {
          if (await this.referencedByNode(node, resource.plural === 'secrets' ? 'secrets' : 'configmaps', namespace, target)) return;
          throw refuse(user, info, `no relationship found between node '${node}' and this object`);
        }
        break;
      }
      case '/events':
      case 'events.k8s.io/events':
        if (verb === 'create' || verb === 'update' || verb === 'patch') return;
        break;
      default:
        break;
    }
    throw refuse(user, info);
  }

  private async requirePodOnNode(user: User, node: string, info: ResourceRequest, why: string): Promise<void> {
    // spec.nodeName is set once (pods/binding) and never changes, so checking it before the
    // write is as good as checking it with the write.
    const pod = await this.pods.getPod(info.namespace ?? '', info.name ?? '');
    if (pod === undefined) return; // the handler answers 404
    if (pod.spec?.nodeName !== node) throw forbidden(groupResource(info.resource), info.name ?? '', `node "${node}" ${why}`);
  }

  private async referencedByNode(node: string, kind: 'secrets' | 'configmaps', namespace: string, name: string): Promise<boolean> {
    const pods = await this.pods.podsOnNode(node, namespace);
    return pods.some((pod) => podReferences(pod)[kind].has(name));
  }

  /** NodeRestriction at create: a node may create only its own Node and its own Lease. */
  admitCreate(user: User, resource: ResourceType, obj: KubeObject): void {
    const node = nodeNameOf(user);
    if (node === undefined) return;
    const name = obj.metadata?.name ?? '';
    const k = key(resource);
    if (k === '/nodes' && name !== node) {
      throw forbidden(groupResource(resource), name, `node "${node}" is not allowed to modify node "${name}"`);
    }
    if (k === 'coordination.k8s.io/leases' && name !== node) {
      throw forbidden(groupResource(resource), name, 'can only access node lease with the same name as the requesting node');
    }
  }
}
