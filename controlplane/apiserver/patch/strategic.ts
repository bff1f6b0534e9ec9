// Strategic merge patch (`application/strategic-merge-patch+json`), the patch format of
// client-side `kubectl apply`, `kubectl patch` and `kubectl edit`. No maintained npm library
// implements it, so this is Skiff's own implementation of the semantics of apimachinery's
// pkg/util/strategicpatch (`StrategicMergeMapPatch`, with MergeParallelList and
// IgnoreUnmatchedNulls as the API server uses it):
//
// - maps merge recursively, and a `null` value deletes the key;
// - a list whose field has patch strategy `merge` merges: lists of objects by the field's merge
//   key (an item with a known key is merged into the live item, a new one is added), lists of
//   primitives as a set union; other lists are replaced by the patch's list;
// - directives: `$patch: replace | delete` in a map, `$patch: delete | replace` as a list item,
//   `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys`;
// - the order of a merged list is the patch's order for the items it names and the live order
//   for the others, interleaved by their live positions; so an item that only the patch has,
//   without a `$setElementOrder` to place it, comes first, as in Kubernetes.
//
// The strategies come from api/schema/patch-strategies.ts, looked up by the type of each field
// while walking the type data alongside the object. Without type data (an unknown kind, or a
// free-form field) maps still merge and lists are replaced: JSON merge patch semantics.
//
// Where Kubernetes keeps a patch's nulls or stray directives inside a value it adds whole (and
// then drops them when it decodes into a Go struct), Skiff drops them at once.

import { objectDefinition, propertyType } from '../../../api/schema/definitions.js';
import { shortName, type FieldType } from '../../../api/schema/model.js';
import { hasMergeStrategy, patchMetaOf, type PatchMeta } from '../../../api/schema/patch-strategies.js';
import { deepCopy } from '../../../api/objects.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * How Kubernetes answers a failed strategic merge patch (apiserver `interpretStrategicMergePatchError`):
 * malformed directives are 400, lists of lists and retainKeys mismatches 422, and everything
 * else (a missing merge key, an unknown `$patch` value) an internal error.
 */
export type PatchErrorClass = 'bad-request' | 'invalid' | 'internal';

export class StrategicMergePatchError extends Error {
  constructor(
    message: string,
    readonly errorClass: PatchErrorClass,
  ) {
    super(message);
    this.name = 'StrategicMergePatchError';
  }
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

const badSetElementOrder = (): StrategicMergePatchError =>
  new StrategicMergePatchError('invalid patch format of setElementOrder list', 'bad-request');
const badRetainKeys = (): StrategicMergePatchError =>
  new StrategicMergePatchError('invalid patch format of retainKeys', 'bad-request');
const badPrimitiveList = (): StrategicMergePatchError =>
  new StrategicMergePatchError('invalid patch format of primitive list', 'bad-request');
const noMergeKey = (item: JsonValue, key: string): StrategicMergePatchError =>
  new StrategicMergePatchError(`map: ${goValue(item)} does not contain declared merge key: ${key}`, 'internal');
const badPatchType = (type: JsonValue, map: JsonObject): StrategicMergePatchError =>
  new StrategicMergePatchError(`unknown patch type: ${goValue(type)} in map: ${goValue(map)}`, 'internal');

/** Where in the type data the walk is: a struct definition, the value type of a map, or nowhere. */
type Schema = { struct: string } | { mapValues: FieldType } | undefined;

function schemaOfType(type: FieldType | undefined): Schema {
  if (!type) return undefined;
  switch (type.type) {
    case 'ref':
      return objectDefinition(type.ref) ? { struct: type.ref } : undefined;
    case 'map':
      return { mapValues: type.values };
    case 'array':
      return schemaOfType(type.items);
    default:
      return undefined;
  }
}

function fieldOf(schema: Schema, key: string): { type?: FieldType; meta?: PatchMeta } {
  if (!schema) return {};
  if ('mapValues' in schema) return { type: schema.mapValues };
  return { type: propertyType(schema.struct, key), meta: patchMetaOf(schema.struct, key) };
}

function schemaName(schema: Schema): string {
  return schema && 'struct' in schema ? shortName(schema.struct) : 'Struct';
}

/**
 * Applies `patch` to `original` and returns the result; neither input is modified.
 * `definitionName` is the canonical definition of the object's kind
 * (`io.k8s.api.apps.v1.Deployment`); without it the patch merges like a JSON merge patch.
 */
export function strategicMergePatch(original: JsonObject, patch: JsonObject, definitionName?: string): JsonObject {
  const schema = definitionName && objectDefinition(definitionName) ? { struct: definitionName } : undefined;
  return mergeMap(deepCopy(original), deepCopy(patch), schema);
}

// ---------------------------------------------------------------------------------------------
// Maps

function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return applyMapDirective(patch);
  applyRetainKeys(original, patch);
  mergeListsWithElementOrder(original, patch, schema);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    let key = patchKey;
    let deleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = patchKey.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      deleteList = true;
    }
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const current = Object.hasOwn(original, key) ? original[key] : undefined;
    if (current === undefined || jsonKind(current) !== jsonKind(patchValue)) {
      // A deletion list never adds: deleting from a list the object lacks leaves it lacking.
      if (!deleteList) setFromPatch(original, key, patchValue);
      continue;
    }
    if (isObject(current) && isObject(patchValue)) {
      original[key] = mergeMap(current, patchValue, schemaOfType(fieldOf(schema, key).type));
    } else if (Array.isArray(current) && Array.isArray(patchValue)) {
      const { type, meta } = fieldOf(schema, key);
      if (hasMergeStrategy(meta) || deleteList) {
        const itemSchema = schemaOfType(type?.type === 'array' ? type.items : undefined);
        original[key] = mergeList(current, patchValue, itemSchema, meta?.mergeKey ?? '', deleteList, schema);
      } else {
        setFromPatch(original, key, patchValue);
      }
    } else {
      original[key] = patchValue;
    }
  }
  return original;
}

/** `$patch` in a map: `replace` makes the patch the whole value, `delete` empties it. */
function applyMapDirective(patch: JsonObject): JsonObject {
  const directive = patch[DIRECTIVE] ?? null;
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return takeFromPatch(patch) as JsonObject;
  }
  if (directive === 'delete') return {};
  throw badPatchType(directive, patch);
}

/**
 * `$retainKeys: [...]` (sent for fields with the retainKeys strategy, e.g. Deployment
 * spec.strategy): keys of the live map that the list does not name are cleared, so that
 * switching `type: Recreate` drops `rollingUpdate`. Every key the patch sets must be listed.
 */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const listed = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(listed)) throw badRetainKeys();
  const retained = new Set(listed.filter((k): k is string => typeof k === 'string'));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.has(key)) throw badRetainKeys();
  }
  for (const key of Object.keys(original)) {
    if (!retained.has(key)) delete original[key];
  }
}

// ---------------------------------------------------------------------------------------------
// Lists

/**
 * `$setElementOrder/<list>: [...]` gives the final relative order of the items the patch's
 * author knows about (kubectl apply sends it for every list it touches, with the merge keys of
 * the manifest's items). The list itself is merged as usual, then ordered: listed items in the
 * directive's order, server-only items in their live order, interleaved by live position.
 */
function mergeListsWithElementOrder(original: JsonObject, patch: JsonObject, schema: Schema): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey] ?? null;
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw expectedList(order);
    const key = directiveKey.slice(SET_ELEMENT_ORDER.length);
    const liveList = Object.hasOwn(original, key) ? original[key] : undefined;
    const patchList = Object.hasOwn(patch, key) ? patch[key] : undefined;
    if (liveList !== undefined && !Array.isArray(liveList)) throw expectedList(liveList);
    if (patchList !== undefined && !Array.isArray(patchList)) throw expectedList(patchList);

    const { type, meta } = fieldOf(schema, key);
    const mergeKey = meta?.mergeKey ?? '';
    validateElementOrder(patchList ?? [], order, mergeKey);

    let merged: JsonValue[];
    if (liveList && !patchList) merged = liveList;
    else if (!liveList && patchList) merged = takeFromPatch(patchList) as JsonValue[];
    else if (liveList && patchList) {
      merged = hasMergeStrategy(meta)
        ? mergeList(liveList, patchList, schemaOfType(type?.type === 'array' ? type.items : undefined), mergeKey, false, schema)
        : (takeFromPatch(patchList) as JsonValue[]);
    } else continue;

    const kind = elementKind([liveList ?? [], patchList ?? []]);
    if (kind !== undefined) {
      const [listed, serverOnly] = partitionByPresence(merged, order, mergeKey);
      merged = normalizeOrder(listed, serverOnly, order, liveList ?? [], mergeKey, kind);
    }
    original[key] = merged;
    delete patch[key];
  }
}

/** The items of the patch list (deletions aside) must appear in the order the directive gives. */
function validateElementOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    if (!patchList.every(isObject)) throw badSetElementOrder();
    items = patchList.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'delete'));
  }
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p] ?? null;
    if (isObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (sameMergeKey(item, order[s] ?? null, mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw new StrategicMergePatchError(
      `The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER.slice(0, -1)} list:\n${goValue(order)}\n`,
      'internal',
    );
  }
}

function sameMergeKey(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left) || !Object.hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!isObject(right) || !Object.hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** Merges a patch list into a live list whose field has the merge strategy. */
function mergeList(
  live: JsonValue[],
  patch: JsonValue[],
  itemSchema: Schema,
  mergeKey: string,
  deleteList: boolean,
  parent: Schema,
): JsonValue[] {
  const kind = elementKind([live, patch]);
  if (kind === undefined) return live; // both empty

  if (kind !== 'object') {
    // `$deleteFromPrimitiveList/<list>` removes every occurrence of the listed values.
    if (deleteList) return live.filter((value) => !patch.includes(value));
    const merged = dedupe([...live, ...patch]);
    const [inPatch, serverOnly] = partitionByPresence(merged, patch, '');
    return normalizeOrder(inPatch, serverOnly, patch, live, '', kind);
  }
  if (deleteList) throw badPrimitiveList();
  if (!mergeKey) {
    throw new StrategicMergePatchError(`cannot merge lists without merge key for ${schemaName(parent)}`, 'internal');
  }
  const [base, items] = applyListDirectives(live, patch, mergeKey);
  const merged = mergeItemsByKey(base, items, mergeKey, itemSchema);
  const [inPatch, serverOnly] = partitionByPresence(merged, items, mergeKey);
  return normalizeOrder(inPatch, serverOnly, items, base, mergeKey, kind);
}

/**
 * List items carrying `$patch`: `delete` removes the live items with that merge key,
 * `replace` makes the rest of the patch list the whole list.
 */
function applyListDirectives(live: JsonValue[], patch: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  let base = live;
  let replace = false;
  const items: JsonValue[] = [];
  for (const item of patch) {
    if (!isObject(item) || !Object.hasOwn(item, DIRECTIVE)) {
      items.push(item);
      continue;
    }
    const directive = item[DIRECTIVE] ?? null;
    if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      base = base.filter((entry) => !(isObject(entry) && entry[mergeKey] === item[mergeKey]));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new StrategicMergePatchError('merging lists cannot yet be specified in the patch', 'internal');
    } else {
      throw badPatchType(directive, item);
    }
  }
  return replace ? [items.map((item) => takeFromPatch(item) ?? null), []] : [base, items];
}

/** Patch items whose merge key matches a live item merge into it; the others are added. */
function mergeItemsByKey(base: JsonValue[], items: JsonValue[], mergeKey: string, itemSchema: Schema): JsonValue[] {
  const result = [...base];
  for (const item of items) {
    if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const index = result.findIndex((entry) => isObject(entry) && Object.hasOwn(entry, mergeKey) && entry[mergeKey] === item[mergeKey]);
    const existing = index >= 0 ? result[index] : undefined;
    if (existing !== undefined && isObject(existing)) result[index] = mergeMap(existing, item, itemSchema);
    else result.push(takeFromPatch(item) ?? null);
  }
  return result;
}

/** Splits `list` into the items present in `by` (compared by merge key) and the others. */
function partitionByPresence(list: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const present: JsonValue[] = [];
  const absent: JsonValue[] = [];
  for (const item of list) {
    let found: boolean;
    if (!mergeKey) {
      found = by.includes(item);
    } else {
      if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      found = by.some((entry) => {
        if (!isObject(entry)) throw expectedMap(entry);
        return Object.hasOwn(entry, mergeKey) && entry[mergeKey] === item[mergeKey];
      });
    }
    (found ? present : absent).push(item);
  }
  return [present, absent];
}

/**
 * Orders a merged list: `patchItems` by `patchOrder`, `serverOnly` by `serverOrder`, then the
 * two interleaved, a server-only item going first when the live list has it before the next
 * patch item (apimachinery `normalizeElementOrder` and `mergeSortedSlice`).
 */
function normalizeOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: ElementKind,
): JsonValue[] {
  const identity = (value: JsonValue): unknown => (kind === 'object' ? (isObject(value) ? value[mergeKey] : undefined) : value);
  const indexIn = (list: JsonValue[], value: JsonValue): number => {
    const id = identity(value);
    return list.findIndex((entry) => identity(entry) === id);
  };
  const sortBy = (items: JsonValue[], order: JsonValue[]): JsonValue[] => {
    let kept = items;
    let deletions: JsonValue[] = [];
    if (kind === 'object') {
      for (const item of [...items, ...order]) {
        if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      }
      kept = items.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'delete'));
      deletions = items.filter((item) => isObject(item) && item[DIRECTIVE] === 'delete');
    }
    return [...insertionSort(kept, (a, b) => {
      const ia = indexIn(order, a);
      const ib = indexIn(order, b);
      // As in apimachinery: items the order does not know compare as "less".
      return ia >= 0 && ib >= 0 ? ia < ib : true;
    }), ...deletions];
  };

  const left = sortBy(serverOnly, serverOrder);
  const right = sortBy(patchItems, patchOrder);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    if (l === undefined) {
      out.push(r ?? null);
      j++;
    } else if (r === undefined) {
      out.push(l);
      i++;
    } else {
      const li = indexIn(serverOrder, l);
      const ri = indexIn(serverOrder, r);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push(l);
        i++;
      } else {
        out.push(r);
        j++;
      }
    }
  }
  return out;
}

/** A stable insertion sort, which (unlike Array.prototype.sort) behaves predictably with the
 * non-strict comparison apimachinery uses for items the order list does not contain. */
function insertionSort<T>(items: readonly T[], less: (a: T, b: T) => boolean): T[] {
  const out = [...items];
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0; j--) {
      const a = out[j] as T;
      const b = out[j - 1] as T;
      if (!less(a, b)) break;
      out[j] = b;
      out[j - 1] = a;
    }
  }
  return out;
}

function dedupe(values: JsonValue[]): JsonValue[] {
  const out: JsonValue[] = [];
  for (const value of values) if (!out.includes(value)) out.push(value);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

type ElementKind = 'object' | 'string' | 'number' | 'boolean' | 'null';

/** The common kind of every element of the lists; lists of lists and mixed lists are refused. */
function elementKind(lists: JsonValue[][]): ElementKind | undefined {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const value of list) {
      if (Array.isArray(value)) throw new StrategicMergePatchError('lists of lists are not supported', 'invalid');
      const current = jsonKind(value) as ElementKind;
      if (kind !== undefined && kind !== current) {
        throw new StrategicMergePatchError(`list element types are not identical: ${goValue(lists)}`, 'internal');
      }
      kind = current;
    }
  }
  return kind;
}

function jsonKind(value: JsonValue): ElementKind | 'array' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'object' | 'string' | 'number' | 'boolean';
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDirectiveKey(key: string): boolean {
  return key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST);
}

/**
 * A value the patch brings whole (a new key, a replaced list, an added item): its null fields
 * and directives mean nothing against an absent live value and are dropped; a map carrying
 * `$patch: delete` is dropped altogether.
 */
function takeFromPatch(value: JsonValue): JsonValue | undefined {
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const item of value) {
      // `{"$patch": "replace"}` in a list is a directive about the list, not an item of it.
      if (isObject(item) && item[DIRECTIVE] !== undefined && Object.keys(item).every(isDirectiveKey)) continue;
      const kept = takeFromPatch(item);
      if (kept !== undefined) out.push(kept);
    }
    return out;
  }
  if (isObject(value)) {
    if (value[DIRECTIVE] === 'delete') return undefined;
    const out: JsonObject = {};
    for (const [key, field] of Object.entries(value)) {
      if (field === null || isDirectiveKey(key)) continue;
      const kept = takeFromPatch(field);
      if (kept !== undefined) out[key] = kept;
    }
    return out;
  }
  return value;
}

function setFromPatch(target: JsonObject, key: string, value: JsonValue): void {
  const kept = takeFromPatch(value);
  if (kept === undefined) delete target[key];
  else target[key] = kept;
}

function expectedList(value: JsonValue): StrategicMergePatchError {
  return new StrategicMergePatchError(`expected a []interface {}, but received a ${goTypeName(value)}`, 'internal');
}

function expectedMap(value: JsonValue): StrategicMergePatchError {
  return new StrategicMergePatchError(`expected a map[string]interface {}, but received a ${goTypeName(value)}`, 'internal');
}

function goTypeName(value: JsonValue): string {
  switch (jsonKind(value)) {
    case 'null':
      return '<nil>';
    case 'array':
      return '[]interface {}';
    case 'object':
      return 'map[string]interface {}';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return 'string';
  }
}

/** Prints a value the way Go's `%v` prints decoded JSON, so messages read like Kubernetes'. */
function goValue(value: JsonValue | JsonValue[][]): string {
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return `[${(value as JsonValue[]).map((v) => goValue(v)).join(' ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${goValue(value[k] ?? null)}`).join(' ')}]`;
  }
  return String(value);
}
