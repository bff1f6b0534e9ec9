// How objects are laid out in the Store: one key per object under `/registry/<group>/<resource>/`
// (`core` for the legacy group), namespaced objects one level deeper. The stored JSON carries no
// resourceVersion: the store's modRevision is the resourceVersion and is set on every read, as
// kube-apiserver does with etcd.

import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';
import type { KeyValue } from '../../store/store.js';

/** The resource whose storage a resource shares: events.k8s.io/v1 events are core/v1 events. */
export function storageResource(r: ResourceType): { group: string; plural: string } {
  if (r.group === 'events.k8s.io' && r.plural === 'events') return { group: '', plural: 'events' };
  return { group: r.group, plural: r.plural };
}

export function storagePrefix(r: ResourceType): string {
  const s = storageResource(r);
  return `/registry/${s.group || 'core'}/${s.plural}/`;
}

/** Keys of one namespace (`ns` given) or of every namespace / the whole cluster-scoped resource. */
export function collectionPrefix(r: ResourceType, namespace?: string): string {
  const prefix = storagePrefix(r);
  return r.namespaced && namespace ? `${prefix}${namespace}/` : prefix;
}

export function objectStorageKey(r: ResourceType, namespace: string | undefined, name: string): string {
  return r.namespaced ? `${storagePrefix(r)}${namespace}/${name}` : `${storagePrefix(r)}${name}`;
}

/**
 * The stored JSON: apiVersion, kind and metadata first (in that order, so that a reader can
 * splice the resourceVersion in without parsing; see `encodedWithRevision`), then the rest.
 */
export function encodeObject(obj: KubeObject): string {
  const metadata = { ...obj.metadata };
  delete metadata.resourceVersion;
  // Keys keep the position of their first assignment: the spread cannot move these three.
  const out: Record<string, unknown> = { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
  for (const [key, value] of Object.entries(obj)) if (key !== 'metadata') out[key] = value;
  return JSON.stringify(out);
}

/** `{"apiVersion":"…","kind":"…","metadata":{` at the start of a stored object. */
const STORED_HEAD = /^\{"apiVersion":"[^"\\]*","kind":"[^"\\]*","metadata":\{/;

/**
 * The object as a reader gets it (what `JSON.stringify(decodeObject(kv))` says), made by
 * splicing `"resourceVersion"` into the stored text instead of parsing and re-serialising it:
 * a list of 10,000 pods is sent in a tenth of the time. Undefined for text not laid out by
 * `encodeObject` (the caller then decodes).
 */
export function encodedWithRevision(kv: Pick<KeyValue, 'value' | 'modRevision'>): string | undefined {
  const head = STORED_HEAD.exec(kv.value);
  if (!head) return undefined;
  const at = head[0].length;
  const rv = `"resourceVersion":"${kv.modRevision}"`;
  return `${kv.value.slice(0, at)}${rv}${kv.value[at] === '}' ? '' : ','}${kv.value.slice(at)}`;
}

export function decodeObject(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
  return obj;
}

/** Parses a resourceVersion string; undefined for empty, NaN-safe. */
export function parseResourceVersion(rv: string | undefined | null): number | undefined {
  if (rv === undefined || rv === null || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) return NaN;
  return Number(rv);
}
