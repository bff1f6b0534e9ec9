// Shapes a registry result into what the client asked for: the object or list itself, a
// server-side Table, or PartialObjectMetadata (research/k8s-api.md §4).

import type { ListMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject, PartialObjectMetadata } from '../../../api/objects.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { EncodedJson } from '../http.js';
import type { ResponseFormat } from '../http.js';
import { toTable } from '../tables/index.js';
import type { IncludeObject } from '../tables/index.js';
import type { ListResult } from '../registry/registry.js';

export function partialMetadata(obj: KubeObject): PartialObjectMetadata {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
}

export function includeObjectParam(value: string | null): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function renderObject(resource: ResourceType, obj: KubeObject, format: ResponseFormat, includeObject: IncludeObject): unknown {
  if (format.as === 'table') return toTable(resource, [obj], { includeObject, listMeta: { resourceVersion: obj.metadata?.resourceVersion } });
  if (format.as === 'partial') return partialMetadata(obj);
  return obj;
}

export function listMeta(result: ListResult): ListMeta {
  const meta: ListMeta = { resourceVersion: result.resourceVersion };
  if (result.continueToken) meta.continue = result.continueToken;
  if (result.remainingItemCount !== undefined) meta.remainingItemCount = result.remainingItemCount;
  return meta;
}

export function renderList(resource: ResourceType, result: ListResult, format: ResponseFormat, includeObject: IncludeObject): unknown {
  const metadata = listMeta(result);
  if (format.as === 'table') return toTable(resource, result.items, { includeObject, listMeta: metadata });
  if (format.as === 'partial') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: result.items.map(partialMetadata) };
  }
  const head = { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata };
  if (result.encoded && format.media === 'json') return new EncodedJson(`${JSON.stringify(head).slice(0, -1)},"items":[${result.encoded.join(',')}]}`);
  return { ...head, items: result.items };
}
