// Turns a request path into what it addresses, the way kube-apiserver's RequestInfoFactory
// does: a resource request (group, version, namespace, resource, name, subresource, verb) or a
// non-resource path (discovery, /version, /openapi, health, metrics).

import { findResource } from '../../api/resources.js';
import type { ResourceType } from '../../api/resources.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  type: 'resource';
  resource: ResourceType;
  verb: Verb;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface UnknownResourceRequest {
  type: 'unknown-resource';
}

export interface NonResourceRequest {
  type: 'non-resource';
  path: string;
}

export type RequestInfo = ResourceRequest | UnknownResourceRequest | NonResourceRequest;

function verbFor(method: string, hasName: boolean, watch: boolean): Verb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return hasName ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return hasName ? 'update' : undefined;
    case 'PATCH':
      return hasName ? 'patch' : undefined;
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

export function isWatchParam(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/**
 * `parts` are the decoded path segments. Returns undefined verb (→ 405) through `verb` being
 * missing only for impossible combinations; unknown resources are reported as such.
 */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { type: 'non-resource', path };
  }

  let namespace: string | undefined;
  let resourceName: string;
  let name: string | undefined;
  let subresource: string | undefined;
  if (rest[0] === 'namespaces' && group === '' && rest.length >= 3) {
    // /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
    namespace = rest[1];
    resourceName = rest[2]!;
    name = rest[3];
    subresource = rest[4];
    if (rest.length > 5) return { type: 'unknown-resource' };
    // /api/v1/namespaces/{ns}/status and /finalize are subresources of the namespace itself.
    if (rest.length === 3 && (resourceName === 'status' || resourceName === 'finalize')) {
      subresource = resourceName;
      resourceName = 'namespaces';
      name = namespace;
      namespace = undefined;
    }
  } else if (rest[0] === 'namespaces' && group !== '' && rest.length >= 3) {
    namespace = rest[1];
    resourceName = rest[2]!;
    name = rest[3];
    subresource = rest[4];
    if (rest.length > 5) return { type: 'unknown-resource' };
  } else {
    resourceName = rest[0]!;
    name = rest[1];
    subresource = rest[2];
    if (rest.length > 3) return { type: 'unknown-resource' };
  }

  const resource = findResource(group, version, resourceName);
  if (!resource) return { type: 'unknown-resource' };
  if (!resource.namespaced && namespace !== undefined) return { type: 'unknown-resource' };
  // A namespaced resource addressed without a namespace can only be listed or watched.
  if (resource.namespaced && namespace === undefined && name !== undefined) return { type: 'unknown-resource' };
  if (subresource !== undefined && !resource.subresources.some((s) => s.name === subresource)) {
    if (!(resource.plural === 'namespaces' && subresource === 'finalize')) return { type: 'unknown-resource' };
  }

  const verb = verbFor(method, name !== undefined, isWatchParam(query.get('watch')));
  if (!verb) return { type: 'unknown-resource' };
  const info: ResourceRequest = { type: 'resource', resource, verb };
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = name;
  if (subresource !== undefined) info.subresource = subresource;
  return info;
}
