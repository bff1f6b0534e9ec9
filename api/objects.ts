// Shapes shared by every Kubernetes object, list, watch event and Table, independent of kind.
// Typed kinds come from the `kubernetes-types` package (e.g. `import type { Pod } from
// 'kubernetes-types/core/v1.js'`); code that handles any kind uses `KubeObject`.

import type { ListMeta, ObjectMeta as ReadonlyObjectMeta } from 'kubernetes-types/meta/v1.js';
import rfdc from 'rfdc';
import type { Status } from './errors.js';

/** The type packages mark system fields read-only; the server is what writes them. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type ObjectMeta = Mutable<ReadonlyObjectMeta>;
export type { ListMeta };

/** Any Kubernetes object. Fields beyond the common ones are the kind's own. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: Status };

/** meta.k8s.io/v1 Table: what `kubectl get` prints. */
export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  object?: KubeObject;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key informers and queues use. */
export function objectKey(obj: { metadata?: ObjectMeta }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function splitObjectKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * A deep copy of an API object (or any JSON value). Every write copies the object it mutates;
 * rfdc does it several times faster than structuredClone, which goes through V8's serializer
 * (a 700-byte pod: about 3 µs against 17-75 µs on the development machine).
 */
export const deepCopy: <T>(value: T) => T = rfdc({ proto: false, circles: false });

