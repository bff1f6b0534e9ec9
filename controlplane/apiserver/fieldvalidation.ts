// Server-side field validation of request bodies against the type data of the built-in kinds
// (api/schema): unknown fields, which `?fieldValidation=Strict|Warn|Ignore` decides the fate of,
// and JSON type mismatches, which always fail. kube-apiserver finds both while decoding JSON
// into Go structs (sigs.k8s.io/json in strict mode); Skiff walks the parsed JSON alongside the
// type data and words its findings the way that decoder does:
//
//   unknown field "spec.template.spec.containers[0].imagee"
//   json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32
//
// Unknown-field paths carry list indices; type-error paths, like Go's, do not. Values of map
// fields (labels, annotations, ConfigMap data) are data, not fields; free-form fields
// (RawExtension, FieldsV1) accept anything. Duplicate fields, which JSON.parse cannot see, are
// found in the body's text (duplicatefields.ts, through decodeBody). Not detected: integers
// written as `1.0` (JSON.parse cannot tell them from `1`).

import { badRequest, fieldError, invalid, type StatusError } from '../../api/errors.js';
import type { GroupVersionKind } from '../../api/resources.js';
import { definition, definitionNameOfKind } from '../../api/schema/definitions.js';
import { decodeLikeGo, duplicateFields, mayHaveDuplicateKeys, yamlDuplicateKeys } from './duplicatefields.js';
import { decodeObject, isYamlMediaType, mediaTypeOf } from './http.js';
import { MERGE_PATCH, STRATEGIC_MERGE_PATCH } from './patch/index.js';
import { PROTOBUF_MEDIA_TYPE } from './protobuf.js';
import { FieldPath } from './validation/field-path.js';
import { INT_OR_STRING, QUANTITY, TIME, MICRO_TIME, RAW_EXTENSION, shortName, type FieldType } from '../../api/schema/model.js';

export interface FieldCheck {
  /** Paths of fields the type does not have, in document order. */
  unknown: string[];
  /** Decoding errors, as Go's JSON decoder words them; Kubernetes reports the first. */
  typeErrors: string[];
}

/** sigs.k8s.io/json stops collecting strict errors after this many. */
const MAX_UNKNOWN_FIELDS = 100;

/**
 * Where the walk is: the JSON path with indices, and the Go decoder's view of it (dotted field
 * names without indices, and the struct declaring the field). Both are FieldPaths, whose text is
 * built only if a field is reported.
 */
interface Location {
  path: FieldPath;
  goField: FieldPath;
  goStruct?: string;
}

const ROOT: Location = { path: FieldPath.of(), goField: FieldPath.of() };

function fieldOf(at: Location, name: string, struct: string): Location {
  return { path: at.path.child(name), goField: at.goField.child(name), goStruct: struct };
}

/** A list item or a map value: a new path, the same Go field. */
function itemOf(at: Location, step: string | number): Location {
  return { ...at, path: typeof step === 'number' ? at.path.index(step) : at.path.child(step) };
}

interface Walk extends FieldCheck {
  prune: boolean;
}

/**
 * Checks an object of a built-in kind against its type. Kinds Skiff has no type data for
 * report nothing.
 */
export function checkFields(gvk: GroupVersionKind, obj: unknown): FieldCheck {
  const walk: Walk = { unknown: [], typeErrors: [], prune: false };
  walkKind(gvk, obj, walk);
  return { unknown: walk.unknown, typeErrors: walk.typeErrors };
}

/** Removes the unknown fields from `obj` (in place) and returns their paths. */
export function pruneUnknownFields(gvk: GroupVersionKind, obj: unknown): string[] {
  const walk: Walk = { unknown: [], typeErrors: [], prune: true };
  walkKind(gvk, obj, walk);
  return walk.unknown;
}

function walkKind(gvk: GroupVersionKind, obj: unknown, walk: Walk): void {
  const name = definitionNameOfKind(gvk);
  if (!name) return;
  walkValue({ type: 'ref', ref: name }, obj, ROOT, walk);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walkValue(type: FieldType, value: unknown, at: Location, walk: Walk): void {
  // Go decodes null into anything: it leaves the field at its zero value.
  if (value === null || value === undefined) return;
  switch (type.type) {
    case 'string':
      if (typeof value !== 'string') return typeError(walk, at, value, goTypeOf(type));
      if (type.format === 'byte') {
        const error = base64Error(value);
        if (error) walk.typeErrors.push(error);
      }
      return;
    case 'integer':
      return checkInteger(value, type.format, at, walk);
    case 'number':
      if (typeof value !== 'number') typeError(walk, at, value, 'float64');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') typeError(walk, at, value, 'bool');
      return;
    case 'array':
      if (!Array.isArray(value)) return typeError(walk, at, value, goTypeOf(type));
      value.forEach((item, i) => walkValue(type.items, item, itemOf(at, i), walk));
      return;
    case 'map':
      if (!isPlainObject(value)) return typeError(walk, at, value, goTypeOf(type));
      // The keys are data; only the values have a type.
      for (const [key, item] of Object.entries(value)) walkValue(type.values, item, itemOf(at, key), walk);
      return;
    case 'ref':
      return walkReference(type.ref, value, at, walk);
  }
}

function walkReference(ref: string, value: unknown, at: Location, walk: Walk): void {
  const def = definition(ref);
  if (!def) return;
  switch (def.type) {
    case 'free-form':
      return;
    case 'date-time':
      // meta/v1 Time decodes a JSON string and parses it as RFC 3339.
      if (typeof value !== 'string') return typeError(walk, at, value, 'string');
      if (!isRfc3339(value)) {
        walk.typeErrors.push(`parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"`);
      }
      return;
    case 'int-or-string':
      // IntOrString takes a JSON string as is, and anything else as an int32.
      if (typeof value !== 'string') checkInteger(value, 'int32', at, walk);
      return;
    case 'quantity': {
      const error = typeof value === 'string' || typeof value === 'number' ? quantityError(String(value).trim()) : QUANTITY_FORMAT;
      if (error) walk.typeErrors.push(error);
      return;
    }
    case 'object':
      break;
  }
  if (!isPlainObject(value)) return typeError(walk, at, value, goTypeOf({ type: 'ref', ref }));
  const struct = shortName(ref);
  for (const key of Object.keys(value)) {
    const fieldType = Object.hasOwn(def.properties, key) ? def.properties[key] : undefined;
    if (!fieldType) {
      const path = at.path.child(key).toString();
      if (walk.unknown.length < MAX_UNKNOWN_FIELDS && !walk.unknown.includes(path)) walk.unknown.push(path);
      if (walk.prune) delete value[key];
      continue;
    }
    walkValue(fieldType, value[key], fieldOf(at, key, struct), walk);
  }
}

function checkInteger(value: unknown, format: 'int32' | 'int64', at: Location, walk: Walk): void {
  if (typeof value !== 'number') return typeError(walk, at, value, format);
  const [min, max] = format === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  // Go names the literal it could not store: "number 1.5".
  if (!Number.isInteger(value) || value < min || value > max) typeError(walk, at, value, format, `number ${value}`);
}

/** The word Go's decoder uses for a JSON value: string, number, bool, object, array. */
function jsonWord(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/** Records Go's UnmarshalTypeError for `value`; `what` overrides Go's word for it ("number 1.5"). */
function typeError(walk: Walk, at: Location, value: unknown, goType: string, what = jsonWord(value)): void {
  walk.typeErrors.push(
    at.goStruct
      ? `json: cannot unmarshal ${what} into Go struct field ${at.goStruct}.${at.goField} of type ${goType}`
      : `json: cannot unmarshal ${what} into Go value of type ${goType}`,
  );
}

/** The Go type Kubernetes declares for a field, as reflect prints it: `[]v1.Container`. */
function goTypeOf(type: FieldType): string {
  switch (type.type) {
    case 'string':
      return type.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return type.format;
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${goTypeOf(type.items)}`;
    case 'map':
      // core/v1 names its maps of Quantity ResourceList.
      return type.values.type === 'ref' && type.values.ref === QUANTITY ? 'v1.ResourceList' : `map[string]${goTypeOf(type.values)}`;
    case 'ref': {
      if (type.ref === TIME || type.ref === MICRO_TIME) return 'string';
      if (type.ref === INT_OR_STRING) return 'intstr.IntOrString';
      if (type.ref === RAW_EXTENSION) return 'runtime.RawExtension';
      const segments = type.ref.split('.');
      return `${segments.at(-2) ?? ''}.${segments.at(-1) ?? ''}`;
    }
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isRfc3339(value: string): boolean {
  const match = RFC3339.exec(value);
  if (!match) return false;
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number) as [number, number, number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59;
}

// api/resource ParseQuantity: the messages of ErrFormatWrong, ErrNumeric and ErrSuffix.
const QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY_SHAPE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const QUANTITY_SUFFIX = /^(|[numkMGTPE]|[KMGTPE]i|[eE][+-]?\d+)$/;

function quantityError(text: string): string | undefined {
  const shape = QUANTITY_SHAPE.exec(text);
  if (!shape) return QUANTITY_FORMAT;
  if (!QUANTITY_NUMBER.test(shape[1] ?? '')) return 'unable to parse numeric part of quantity';
  if (!QUANTITY_SUFFIX.test(shape[2] ?? '')) return "unable to parse quantity's suffix";
  return undefined;
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/]$/;

/** Go's encoding/base64 StdEncoding (padded; CR and LF ignored) error for a []byte field. */
function base64Error(value: string): string | undefined {
  const chars: { ch: string; at: number }[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch !== '\r' && ch !== '\n') chars.push({ ch, at: i });
  }
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    for (let k = 0; k < quantum.length; k++) {
      const { ch, at } = quantum[k] as { ch: string; at: number };
      if (BASE64_ALPHABET.test(ch)) continue;
      // Padding may fill only the last one or two places of the final quantum.
      const isFinalQuantum = q + 4 >= chars.length && quantum.length === 4;
      const rest = quantum.slice(k).every((c) => c.ch === '=');
      if (ch === '=' && isFinalQuantum && k >= 2 && rest) return undefined;
      return `illegal base64 data at input byte ${at}`;
    }
    if (quantum.length < 4) return `illegal base64 data at input byte ${quantum[0]?.at ?? value.length}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// What the API handler answers.

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const FIELD_VALIDATION_VALUES = ['', 'Ignore', 'Strict', 'Warn'] as const;

/**
 * Reads `?fieldValidation=`. Unset means Warn, Kubernetes' default since 1.23; anything else
 * than the three values is 422 on the request's options kind (CreateOptions, UpdateOptions,
 * PatchOptions), as apimachinery's ValidateFieldValidation answers.
 */
export function parseFieldValidation(
  value: string | null | undefined,
  optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
): FieldValidation {
  if (value === null || value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw invalid({ group: 'meta.k8s.io', kind: optionsKind }, '', [
    fieldError.notSupported('fieldValidation', value, FIELD_VALIDATION_VALUES),
  ]);
}

/** `<Kind> in version "<v>" cannot be handled as a <Kind>: <why>`: a body that does not decode (400). */
export function decodeError(gvk: GroupVersionKind, why: string): StatusError {
  return badRequest(`${gvk.kind} in version ${JSON.stringify(gvk.version)} cannot be handled as a ${gvk.kind}: ${why}`);
}

/** runtime.NewStrictDecodingError's message. */
function strictDecodingMessage(errors: readonly string[]): string {
  return `strict decoding error: ${errors.join(', ')}`;
}

function unknownFieldError(path: string): string {
  return `unknown field ${JSON.stringify(path)}`;
}

/** Strict validation of a POST or PUT body with unknown fields (400). */
export function strictDecodingError(gvk: GroupVersionKind, unknown: readonly string[]): StatusError {
  return decodeError(gvk, strictDecodingMessage(unknown.map(unknownFieldError)));
}

/**
 * A patched object that does not decode: kube-apiserver answers 422 Invalid on the field
 * `patch`, quoting the patched object (apiserver handlers/patch.go).
 */
export function patchDecodeError(patched: unknown, why: string): StatusError {
  return invalid({ group: '', kind: '' }, '', [fieldError.invalid('patch', JSON.stringify(patched), why)]);
}

/** One `Warning` header value per dropped field: `299 - "unknown field \"spec.foo\""`. */
export function unknownFieldWarning(path: string): string {
  return warningHeaderValue(unknownFieldError(path));
}

/** RFC 7234 warn-code 299 with the text quoted as Go's strconv.QuoteToASCII would. */
export function warningHeaderValue(text: string): string {
  const quoted = JSON.stringify(text).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `299 - ${quoted}`;
}

/** A POST or PUT body decoded, with what kube-apiserver's strict decoder would say of it. */
export interface DecodedBody {
  obj: Record<string, unknown>;
  /**
   * Set when the body has duplicate fields: all its strict errors (duplicate and unknown
   * fields) in kube-apiserver's order, to use instead of the field walk's unknown fields.
   */
  strictErrors?: string[];
}

/**
 * Decodes a POST or PUT body (http.ts decodeObject) and, under Strict and Warn, looks for
 * duplicate fields, which kube-apiserver's strict decoder reports with the unknown ones. A JSON
 * body with duplicates is decoded again as Go decodes it into the kind's struct (objects given
 * twice merge). Protobuf has no duplicate keys; Ignore decodes without strictness, as
 * kube-apiserver does, but keeps JSON.parse's last value where Go would merge.
 */
export function decodeBody(gvk: GroupVersionKind, body: Buffer, contentType: string | undefined, directive: FieldValidation): DecodedBody {
  const media = mediaTypeOf(contentType);
  if (media === PROTOBUF_MEDIA_TYPE) return { obj: decodeObject(body, contentType, gvk.kind) };
  const text = body.toString('utf8');
  const obj = decodeObject(text, contentType, gvk.kind);
  if (directive === 'Ignore') return { obj };
  if (isYamlMediaType(media)) {
    // go-yaml's error comes first, then the JSON decoder's, which finds no repeats in the JSON
    // converted from YAML (the last value kept).
    const yamlError = yamlDuplicateKeys(text);
    return yamlError ? { obj, strictErrors: [yamlError, ...checkFields(gvk, obj).unknown.map(unknownFieldError)] } : { obj };
  }
  if (!mayHaveDuplicateKeys(text, obj)) return { obj };
  const definitionName = definitionNameOfKind(gvk);
  // A kind without type data decodes into a map, where the last value wins as in JSON.parse.
  if (!definitionName) return { obj, strictErrors: duplicateFields(text) };
  const decoded = decodeLikeGo(text, definitionName);
  return { obj: decoded.value, strictErrors: decoded.strictErrors };
}

/**
 * The strict errors of a merge or strategic merge patch body: kube-apiserver decodes it into a
 * map under Strict and Warn, so its repeated keys (the last one applied) count with the patched
 * object's unknown fields. Other patch types are not checked.
 */
export function patchStrictErrors(contentType: string, body: string, directive: FieldValidation): string[] {
  const media = mediaTypeOf(contentType);
  if (directive === 'Ignore' || (media !== MERGE_PATCH && media !== STRATEGIC_MERGE_PATCH)) return [];
  return duplicateFields(body);
}

/**
 * Enforces field validation on a POST or PUT body of a built-in kind: a type error is 400
 * whatever the directive; strict errors (unknown fields, or `strictErrors` from decodeBody) are
 * 400 under Strict, and otherwise the unknown fields are dropped (in place). Returns the
 * `Warning` header values to send (Warn only).
 */
export function enforceFieldValidation(gvk: GroupVersionKind, obj: unknown, directive: FieldValidation, strictErrors?: readonly string[]): string[] {
  const check = checkFields(gvk, obj);
  if (check.typeErrors[0]) throw decodeError(gvk, check.typeErrors[0]);
  const errors = strictErrors ?? check.unknown.map(unknownFieldError);
  return settleStrictErrors(gvk, obj, errors, check.unknown.length > 0, directive, () => decodeError(gvk, strictDecodingMessage(errors)));
}

/**
 * The same for the result of a PATCH, which Kubernetes answers with 422 instead of 400; the
 * patch body's own strict errors (patchStrictErrors) come first.
 */
export function enforcePatchedFieldValidation(
  gvk: GroupVersionKind,
  patched: unknown,
  directive: FieldValidation,
  patchErrors: readonly string[] = [],
): string[] {
  const check = checkFields(gvk, patched);
  if (check.typeErrors[0]) throw patchDecodeError(patched, check.typeErrors[0]);
  const errors = [...patchErrors, ...check.unknown.map(unknownFieldError)];
  return settleStrictErrors(gvk, patched, errors, check.unknown.length > 0, directive, () => patchDecodeError(patched, strictDecodingMessage(errors)));
}

function settleStrictErrors(
  gvk: GroupVersionKind,
  obj: unknown,
  errors: readonly string[],
  hasUnknownFields: boolean,
  directive: FieldValidation,
  strictError: () => StatusError,
): string[] {
  if (errors.length === 0 && !hasUnknownFields) return [];
  if (directive === 'Strict' && errors.length > 0) throw strictError();
  if (hasUnknownFields) pruneUnknownFields(gvk, obj);
  return directive === 'Warn' ? errors.flatMap(warningsOf).map(warningHeaderValue) : [];
}

const YAML_ERRORS = 'yaml: unmarshal errors:\n';

/** A warning per strict error, and per line of go-yaml's (apiserver's parseYAMLWarnings). */
function warningsOf(error: string): string[] {
  if (!error.startsWith(YAML_ERRORS)) return [error];
  return error.slice(YAML_ERRORS.length).split('\n').map((line) => line.trim());
}
