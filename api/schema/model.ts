// The shape of Skiff's type schema data (types.json): for every Kubernetes definition reachable
// from the kinds Skiff serves, its properties and their JSON types. Definitions are keyed by
// Kubernetes' canonical OpenAPI names (`io.k8s.api.core.v1.Pod`), so that the OpenAPI documents,
// the field validator and the strategic merge patch all speak of the same types.

export interface GroupVersionKindRef {
  group: string;
  version: string;
  kind: string;
}

/** The JSON type of one property (or of an array item, or of a map value). */
export type FieldType =
  | { type: 'string'; format?: 'byte' }
  | { type: 'integer'; format: 'int32' | 'int64' }
  | { type: 'number'; format?: 'double' }
  | { type: 'boolean' }
  /** Another definition of the data, by canonical name. */
  | { type: 'ref'; ref: string }
  | { type: 'array'; items: FieldType }
  /** A JSON object whose keys are data, not fields (labels, annotations, ConfigMap data…). */
  | { type: 'map'; values: FieldType };

/** A Go struct: a JSON object with a fixed set of fields. */
export interface ObjectDefinition {
  type: 'object';
  /** Set on the kinds themselves (Pod, PodList, Scale…), as Kubernetes' OpenAPI does. */
  gvk?: GroupVersionKindRef[];
  properties: Record<string, FieldType>;
  /** Properties the Go struct does not mark optional. */
  required?: string[];
}

/**
 * The definitions Kubernetes serialises specially, not as structs:
 * - `date-time`: meta/v1 Time and MicroTime, an RFC 3339 string;
 * - `int-or-string`: util/intstr IntOrString, a JSON integer or string;
 * - `quantity`: api/resource Quantity, a string such as `500m` or `1Gi` (a JSON number is accepted);
 * - `free-form`: runtime RawExtension and meta/v1 FieldsV1, any JSON object.
 */
export interface SpecialDefinition {
  type: 'date-time' | 'int-or-string' | 'quantity' | 'free-form';
}

export type Definition = ObjectDefinition | SpecialDefinition;

export interface SchemaData {
  /** Where the data came from, so that a stale file is recognisable. */
  source: string;
  definitions: Record<string, Definition>;
}

export const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
export const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const FIELDS_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1';

/** The last dotted segment: `Pod` for `io.k8s.api.core.v1.Pod`, the name Go gives the struct. */
export function shortName(definitionName: string): string {
  return definitionName.slice(definitionName.lastIndexOf('.') + 1);
}
