// Decodes Kubernetes protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`,
// what client-go's typed clients, and so `kubectl create namespace|configmap|…`, `kubectl run`
// and `kubectl drain`'s evictions, send) into the JSON-shaped objects the rest of the server
// handles. Responses stay JSON: every protobuf client also accepts JSON.
//
// The wire format (apimachinery pkg/runtime/serializer/protobuf): the magic `k8s\0`, then a
// runtime.Unknown {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4}
// whose `raw` is the object's own gogo-protobuf encoding. The field numbers, JSON names and Go
// shapes of every message come from api/schema/protobuf.json (see api/schema/README.md).
//
// The result is what kube-apiserver's JSON encoding of the decoded Go struct would be, so that it
// equals what kubectl sends when it speaks JSON: `omitempty` zero scalars and nil slices, maps
// and pointers are left out, other nil slices/maps/pointers are `null`, other zero scalars are
// written, and non-pointer structs are always written (Go's omitempty never drops a struct:
// that is why kubectl sends `"creationTimestamp": null` and `"status": {}`).

import { badRequest } from '../../api/errors.js';
import type { StatusError } from '../../api/errors.js';
import { FIELDS_V1, INT_OR_STRING, MICRO_TIME, QUANTITY, RAW_EXTENSION, TIME } from '../../api/schema/model.js';
import { QuantityError, parseQuantity } from '../../api/quantity.js';
import data from '../../api/schema/protobuf.json' with { type: 'json' };

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

// ---------------------------------------------------------------------------------------------
// The data

/** `[jsonName, type, flags]`: type is a protobuf scalar (`string`, `int32`…) or a definition. */
export type FieldSpec = [jsonName: string, type: string, flags?: string];

export interface ProtobufSchema {
  source: string;
  fieldFormat: string;
  /** `apiVersion/kind` (`apps/v1/Deployment`, `v1/Pod`) → definition name. */
  kinds: Record<string, string>;
  /** Definition name → field number → field. */
  messages: Record<string, Record<string, FieldSpec>>;
}

export const protobufSchema: ProtobufSchema = data as unknown as ProtobufSchema;

interface Field {
  number: number;
  json: string;
  type: string;
  repeated: boolean;
  map: boolean;
  omitempty: boolean;
  pointer: boolean;
  inline: boolean;
}

const messageFields = new Map<string, Map<number, Field>>();
for (const [name, fields] of Object.entries(protobufSchema.messages)) {
  const byNumber = new Map<number, Field>();
  for (const [number, [json, type, flags = '']] of Object.entries(fields)) {
    byNumber.set(Number(number), {
      number: Number(number),
      json,
      type,
      repeated: flags.includes('r'),
      map: flags.includes('m'),
      omitempty: flags.includes('o'),
      pointer: flags.includes('p'),
      inline: flags.includes('i'),
    });
  }
  messageFields.set(name, byNumber);
}

/**
 * meta/v1 DeleteOptions is registered in every group version (metav1.AddToGroupVersion), and
 * typed clients send it in their own (`apps/v1` DeleteOptions for a Deployment).
 */
const KINDS_OF_EVERY_GROUP_VERSION: Record<string, string> = {
  DeleteOptions: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
};

/** The definition a body of this apiVersion and kind decodes to, if Skiff knows it. */
export function protobufDefinitionOfKind(apiVersion: string, kind: string): string | undefined {
  return protobufSchema.kinds[`${apiVersion}/${kind}`] ?? KINDS_OF_EVERY_GROUP_VERSION[kind];
}

// ---------------------------------------------------------------------------------------------
// The wire

/** The `k8s\0` prefix of every Kubernetes protobuf body. */
const MAGIC = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** A malformed body; turned into a 400 by the caller with Kubernetes' wording around it. */
class ProtobufError extends Error {}

const utf8 = new TextDecoder('utf-8');

class WireReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new ProtobufError('unexpected EOF');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtobufError('proto: integer overflow');
  }

  lengthDelimited(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.buf.length - this.pos)) throw new ProtobufError('unexpected EOF');
    const start = this.pos;
    this.pos += Number(length);
    return this.buf.subarray(start, this.pos);
  }

  tag(): { number: number; wireType: number } {
    const key = this.varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number <= 0 || number > 0x1fffffff) throw new ProtobufError(`proto: illegal tag ${number} (wire type ${wireType})`);
    return { number, wireType };
  }

  /** Skips a field of no interest, as gogo's generated Unmarshal does for unknown fields. */
  skip(wireType: number, number: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_BYTES:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      case WIRE_START_GROUP:
        for (;;) {
          if (this.done) throw new ProtobufError('unexpected EOF');
          const inner = this.tag();
          if (inner.wireType === WIRE_END_GROUP) {
            if (inner.number !== number) throw new ProtobufError('proto: unexpected end of group');
            return;
          }
          this.skip(inner.wireType, inner.number);
        }
      default:
        throw new ProtobufError(`proto: illegal wireType ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtobufError('unexpected EOF');
    this.pos += n;
  }
}

/** Every occurrence of one field in a message, in order. */
type Occurrence = bigint | Uint8Array;

function readFields(bytes: Uint8Array, typeName: string, fields: Map<number, Field>): Map<number, Occurrence[]> {
  const reader = new WireReader(bytes);
  const seen = new Map<number, Occurrence[]>();
  while (!reader.done) {
    const { number, wireType } = reader.tag();
    const field = fields.get(number);
    if (!field) {
      // Unknown to this version of the schema: skipped, as Kubernetes' decoder does.
      reader.skip(wireType, number);
      continue;
    }
    const expected = isVarintType(field.type) && !field.map ? WIRE_VARINT : WIRE_BYTES;
    const packed = expected === WIRE_VARINT && field.repeated && wireType === WIRE_BYTES;
    if (wireType !== expected && !packed) {
      throw new ProtobufError(`proto: wrong wireType = ${wireType} for field ${field.json || typeName} of ${typeName}`);
    }
    let list = seen.get(number);
    if (!list) seen.set(number, (list = []));
    if (packed) {
      const inner = new WireReader(reader.lengthDelimited());
      while (!inner.done) list.push(inner.varint());
    } else {
      list.push(wireType === WIRE_VARINT ? reader.varint() : reader.lengthDelimited());
    }
  }
  return seen;
}

function isVarintType(type: string): boolean {
  return type === 'int32' || type === 'int64' || type === 'bool';
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Messages → JSON

/** Nested objects (RawExtensions holding protobuf objects) stop here. */
const MAX_DEPTH = 32;

function decodeMessage(typeName: string, bytes: Uint8Array, depth: number): Record<string, unknown> {
  const fields = messageFields.get(typeName);
  if (!fields) throw new ProtobufError(`decoding ${typeName} from protobuf is not supported`);
  const seen = readFields(bytes, typeName, fields);
  const out: Record<string, unknown> = {};
  for (const field of fields.values()) {
    const occurrences = seen.get(field.number);
    if (field.inline) {
      // An embedded struct whose fields JSON puts in the parent (Volume's VolumeSource).
      Object.assign(out, decodeMessage(field.type, concat((occurrences ?? []) as Uint8Array[]), depth + 1));
      continue;
    }
    if (field.repeated || field.map || field.pointer) {
      if (occurrences === undefined) {
        if (!field.omitempty) out[field.json] = null; // a nil slice, map or pointer
        continue;
      }
      if (field.map) out[field.json] = decodeMap(field, occurrences, depth);
      else if (field.repeated) out[field.json] = occurrences.map((o) => decodeValue(field.type, o, depth));
      else out[field.json] = decodeValue(field.type, lastOrMerged(field, occurrences), depth);
      continue;
    }
    const value = occurrences === undefined ? zeroValue(field.type, depth) : decodeValue(field.type, lastOrMerged(field, occurrences), depth);
    if (field.omitempty && isEmptyScalar(value)) continue;
    out[field.json] = value;
  }
  return out;
}

/** A scalar field seen twice keeps the last value; a message seen twice is merged (protobuf rules). */
function lastOrMerged(field: Field, occurrences: Occurrence[]): Occurrence {
  if (isScalarType(field.type)) return occurrences[occurrences.length - 1]!;
  return concat(occurrences as Uint8Array[]);
}

function isScalarType(type: string): boolean {
  return isVarintType(type) || type === 'string' || type === 'bytes';
}

/** Go's omitempty: false, 0 and "" are empty; structs (objects, null for Time) never are. */
function isEmptyScalar(value: unknown): boolean {
  return value === false || value === 0 || value === '';
}

function decodeMap(field: Field, entries: Occurrence[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of entries) {
    let key = '';
    let value: unknown;
    const reader = new WireReader(entry as Uint8Array);
    while (!reader.done) {
      const { number, wireType } = reader.tag();
      if (number === 1 && wireType === WIRE_BYTES) key = utf8.decode(reader.lengthDelimited());
      else if (number === 2 && field.repeated && wireType === WIRE_BYTES) value = decodeNamedList(field, reader.lengthDelimited(), depth);
      else if (number === 2 && wireType === (isVarintType(field.type) ? WIRE_VARINT : WIRE_BYTES)) {
        value = decodeValue(field.type, isVarintType(field.type) ? reader.varint() : reader.lengthDelimited(), depth);
      } else reader.skip(wireType, number);
    }
    // gogo starts every map value at its zero value: a missing one is "", 0 or a zero struct,
    // and an empty (non-nil) list for a named list.
    out[key] = value !== undefined ? value : field.repeated ? [] : zeroValue(field.type, depth);
  }
  return out;
}

/**
 * A map value that Go declares as a named list (authentication's `type ExtraValue []string`):
 * protobuf wraps it in a message whose field 1 holds the items, JSON writes the bare list.
 */
function decodeNamedList(field: Field, bytes: Uint8Array, depth: number): unknown[] {
  const items = new Map([[1, { ...field, number: 1, json: 'items', map: false }]]);
  return (readFields(bytes, 'ExtraValue', items).get(1) ?? []).map((item) => decodeValue(field.type, item, depth));
}

function decodeValue(type: string, raw: Occurrence, depth: number): unknown {
  switch (type) {
    case 'int32':
      return Number(BigInt.asIntN(32, raw as bigint));
    case 'int64':
      return Number(BigInt.asIntN(64, raw as bigint));
    case 'bool':
      return (raw as bigint) !== 0n;
    case 'string':
      return utf8.decode(raw as Uint8Array);
    case 'bytes':
      return Buffer.from(raw as Uint8Array).toString('base64'); // Go's JSON encoding of []byte
    default:
      return decodeStruct(type, raw as Uint8Array, depth);
  }
}

function zeroValue(type: string, depth: number): unknown {
  switch (type) {
    case 'int32':
    case 'int64':
      return 0;
    case 'bool':
      return false;
    case 'string':
    case 'bytes':
      return '';
    default:
      return decodeStruct(type, new Uint8Array(0), depth);
  }
}

/** A message: the types with their own JSON form first, then ordinary structs. */
function decodeStruct(type: string, bytes: Uint8Array, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtobufError(`objects nested deeper than ${MAX_DEPTH} levels`);
  switch (type) {
    case TIME:
      return decodeTime(bytes, 'seconds');
    case MICRO_TIME:
      return decodeTime(bytes, 'microseconds');
    case QUANTITY:
      return decodeQuantity(bytes);
    case INT_OR_STRING:
      return decodeIntOrString(bytes);
    case RAW_EXTENSION:
      return decodeRawExtension(bytes, depth);
    case FIELDS_V1:
      return decodeFieldsV1(bytes);
    default:
      return decodeMessage(type, bytes, depth + 1);
  }
}

/** The fields of a small fixed message (Timestamp, Quantity…), last occurrence winning. */
function smallMessage(bytes: Uint8Array): Map<number, Occurrence> {
  const out = new Map<number, Occurrence>();
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const { number, wireType } = reader.tag();
    if (wireType === WIRE_VARINT) out.set(number, reader.varint());
    else if (wireType === WIRE_BYTES) out.set(number, reader.lengthDelimited());
    else reader.skip(wireType, number);
  }
  return out;
}

function varintField(fields: Map<number, Occurrence>, number: number, typeName: string): bigint {
  const value = fields.get(number) ?? 0n;
  if (typeof value !== 'bigint') throw new ProtobufError(`proto: wrong wireType = 2 for field ${number} of ${typeName}`);
  return value;
}

function bytesField(fields: Map<number, Occurrence>, number: number, typeName: string): Uint8Array | undefined {
  const value = fields.get(number);
  if (typeof value === 'bigint') throw new ProtobufError(`proto: wrong wireType = 0 for field ${number} of ${typeName}`);
  return value;
}

/** Go's zero time.Time (0001-01-01T00:00:00Z), which JSON writes as null. */
const ZERO_TIME_SECONDS = -62135596800n;

/**
 * meta/v1 Time and MicroTime: a Timestamp {seconds=1, nanos=2}; empty bytes are the zero time.
 * Time keeps whole seconds (its Unmarshal drops nanos), MicroTime microseconds; JSON writes them
 * in UTC as RFC 3339 (`2026-01-02T03:04:05Z`, `2026-01-02T03:04:05.123456Z`).
 */
function decodeTime(bytes: Uint8Array, precision: 'seconds' | 'microseconds'): string | null {
  if (bytes.length === 0) return null;
  const fields = smallMessage(bytes);
  const seconds = BigInt.asIntN(64, varintField(fields, 1, 'Timestamp'));
  const nanos = precision === 'seconds' ? 0n : BigInt.asIntN(32, varintField(fields, 2, 'Timestamp'));
  // time.Unix normalises nanos outside [0, 1e9); Truncate(Microsecond) rounds towards zero.
  const micros = seconds * 1_000_000n + nanos / 1000n;
  let wholeSeconds = micros / 1_000_000n;
  let fraction = micros % 1_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000n;
    wholeSeconds -= 1n;
  }
  if (wholeSeconds === ZERO_TIME_SECONDS && fraction === 0n) return null;
  const date = new Date(Number(wholeSeconds) * 1000);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufError('Time.MarshalJSON: year outside of range [0,9999]');
  }
  const base = date.toISOString().slice(0, 19);
  return precision === 'seconds' ? `${base}Z` : `${base}.${fraction.toString().padStart(6, '0')}Z`;
}

/** api/resource Quantity {string=1}; absent is the zero quantity, "0". */
function decodeQuantity(bytes: Uint8Array): string {
  const raw = bytesField(smallMessage(bytes), 1, 'Quantity');
  if (raw === undefined) return '0';
  const text = utf8.decode(raw);
  try {
    parseQuantity(text); // Quantity.Unmarshal parses, and fails on what is not a quantity
  } catch (err) {
    if (err instanceof QuantityError) throw new ProtobufError(err.message);
    throw err;
  }
  return text;
}

/** util/intstr IntOrString {type=1 (0 int, 1 string), intVal=2, strVal=3}. */
function decodeIntOrString(bytes: Uint8Array): number | string {
  const fields = smallMessage(bytes);
  const type = varintField(fields, 1, 'IntOrString');
  if (type === 0n) return Number(BigInt.asIntN(32, varintField(fields, 2, 'IntOrString')));
  if (type === 1n) return utf8.decode(bytesField(fields, 3, 'IntOrString') ?? new Uint8Array(0));
  throw new ProtobufError('impossible IntOrString.Type');
}

/**
 * runtime RawExtension {raw=1}: the bytes of an embedded object, JSON (as kubectl sends them) or
 * itself a Kubernetes protobuf object.
 */
function decodeRawExtension(bytes: Uint8Array, depth: number): unknown {
  const raw = bytesField(smallMessage(bytes), 1, 'RawExtension');
  if (raw === undefined || raw.length === 0) return null;
  if (hasMagic(raw)) return decodeUnknown(raw.subarray(MAGIC.length), undefined, depth + 1);
  return parseEmbeddedJson(raw, 'RawExtension');
}

/** meta/v1 FieldsV1 {raw=1}: JSON bytes (managedFields). */
function decodeFieldsV1(bytes: Uint8Array): unknown {
  const raw = bytesField(smallMessage(bytes), 1, 'FieldsV1');
  if (raw === undefined || raw.length === 0) return null;
  return parseEmbeddedJson(raw, 'FieldsV1');
}

function parseEmbeddedJson(raw: Uint8Array, typeName: string): unknown {
  try {
    return JSON.parse(utf8.decode(raw));
  } catch (err) {
    throw new ProtobufError(`${typeName} does not hold JSON: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// runtime.Unknown and the entry point

function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/** A decode failure after the type is known: Kubernetes names the type in the message. */
class TypedDecodeError extends ProtobufError {
  constructor(
    readonly typeMeta: TypeMeta,
    message: string,
  ) {
    super(message);
  }
}

/**
 * runtime.Unknown → the object with apiVersion and kind. A missing kind is the endpoint's, as
 * kube-apiserver defaults it; a missing apiVersion is taken when only one version has the kind.
 */
function decodeUnknown(bytes: Uint8Array, expectedKind: string | undefined, depth: number): Record<string, unknown> {
  const unknown = smallMessage(bytes);
  const typeMetaBytes = bytesField(unknown, 1, 'Unknown') ?? new Uint8Array(0);
  const typeMetaFields = smallMessage(typeMetaBytes);
  const sent: TypeMeta = {
    apiVersion: utf8.decode(bytesField(typeMetaFields, 1, 'TypeMeta') ?? new Uint8Array(0)),
    kind: utf8.decode(bytesField(typeMetaFields, 2, 'TypeMeta') ?? new Uint8Array(0)),
  };
  const typeMeta: TypeMeta = { apiVersion: sent.apiVersion, kind: sent.kind || (expectedKind ?? '') };
  if (typeMeta.kind === '') throw new ProtobufError(`Object 'Kind' is missing in '${JSON.stringify(sent)}'`);
  if (typeMeta.apiVersion === '') {
    const versions = Object.keys(protobufSchema.kinds).filter((k) => k.endsWith(`/${typeMeta.kind}`));
    if (versions.length !== 1) throw new ProtobufError(`Object 'apiVersion' is missing in '${JSON.stringify(sent)}'`);
    typeMeta.apiVersion = versions[0]!.slice(0, -typeMeta.kind.length - 1);
  }
  const definition = protobufDefinitionOfKind(typeMeta.apiVersion, typeMeta.kind);
  if (!definition) {
    throw new TypedDecodeError(typeMeta, `no kind ${JSON.stringify(typeMeta.kind)} is registered for version ${JSON.stringify(typeMeta.apiVersion)}`);
  }
  let fields: Record<string, unknown>;
  try {
    fields = decodeMessage(definition, bytesField(unknown, 2, 'Unknown') ?? new Uint8Array(0), depth);
  } catch (err) {
    if (err instanceof ProtobufError) throw new TypedDecodeError(typeMeta, err.message);
    throw err;
  }
  // What the client sent, as JSON would carry it: absent type fields stay absent.
  const object: Record<string, unknown> = {};
  if (sent.apiVersion) object['apiVersion'] = sent.apiVersion;
  if (sent.kind) object['kind'] = sent.kind;
  return Object.assign(object, fields);
}

/** kube-apiserver's summary of a body it could not decode: hex of the first 30 bytes. */
function summarize(body: Uint8Array): string {
  if (body.length === 0) return '<empty>';
  const hex = Buffer.from(body.subarray(0, 30)).toString('hex');
  return body.length > 30 ? `${hex} ...` : hex;
}

function versionOf(apiVersion: string): string {
  return apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
}

/**
 * Decodes a Kubernetes protobuf body into the JSON form of the object. Errors are 400s worded
 * as kube-apiserver's (handlers' transformDecodeError): "the object provided is unrecognized
 * (must be of type Namespace): …" before the type is known, "Namespace in version "v1" cannot
 * be handled as a Namespace: …" after.
 */
export function decodeProtobufObject(body: Uint8Array, expectedKind: string): Record<string, unknown> {
  const unrecognized = (reason: string): StatusError =>
    badRequest(`the object provided is unrecognized (must be of type ${expectedKind}): ${reason} (${summarize(body)})`);
  if (body.length === 0) throw unrecognized('empty data');
  if (!hasMagic(body)) {
    throw unrecognized(`provided data does not appear to be a protobuf message, expected prefix [${MAGIC.join(' ')}]`);
  }
  if (body.length === MAGIC.length) throw unrecognized('empty body');
  try {
    return decodeUnknown(body.subarray(MAGIC.length), expectedKind, 0);
  } catch (err) {
    if (err instanceof TypedDecodeError) {
      throw badRequest(`${err.typeMeta.kind} in version ${JSON.stringify(versionOf(err.typeMeta.apiVersion))} cannot be handled as a ${expectedKind}: ${err.message}`);
    }
    if (err instanceof ProtobufError) throw unrecognized(err.message);
    throw err;
  }
}
