// A tiny protobuf writer for hand-built test bodies: each function returns the bytes of one field
// (tag and value), and a message is the concatenation of its fields.

export type Bytes = Uint8Array;

function varintBytes(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function key(field: number, wireType: number): number[] {
  return varintBytes(BigInt((field << 3) | wireType));
}

export function cat(...parts: Bytes[]): Bytes {
  return Buffer.concat(parts);
}

/** A varint field: int32, int64 (negative numbers take ten bytes) or bool. */
export function varint(field: number, value: number | bigint | boolean): Bytes {
  const v = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
  return Uint8Array.from([...key(field, 0), ...varintBytes(v)]);
}

/** A length-delimited field: a string, bytes, or an embedded message given as its fields. */
export function bytes(field: number, ...content: (Bytes | string)[]): Bytes {
  const payload = cat(...content.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
  return cat(Uint8Array.from([...key(field, 2), ...varintBytes(BigInt(payload.length))]), payload);
}

export const message = bytes;

/** One entry of a map field: key=1, value=2 (the value given as an already encoded field). */
export function mapEntry(field: number, mapKey: string, value?: Bytes): Bytes {
  return message(field, bytes(1, mapKey), ...(value ? [value] : []));
}

/** A packed repeated varint field. */
export function packed(field: number, values: number[]): Bytes {
  return bytes(field, Uint8Array.from(values.flatMap((v) => varintBytes(BigInt(v)))));
}

/** A fixed32 field (no Kubernetes type has one; decoders must skip it when unknown). */
export function fixed32(field: number, value: number): Bytes {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return cat(Uint8Array.from(key(field, 5)), b);
}

export const MAGIC = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);

/** A whole request body: the magic and a runtime.Unknown around the object's fields. */
export function k8sBody(apiVersion: string, kind: string, ...objectFields: Bytes[]): Buffer {
  const typeMeta = message(1, ...(apiVersion ? [bytes(1, apiVersion)] : []), ...(kind ? [bytes(2, kind)] : []));
  return Buffer.from(cat(MAGIC, typeMeta, bytes(2, cat(...objectFields))));
}

/** ObjectMeta as gogo writes it for a new object: every non-pointer field, even when empty. */
export function objectMeta(field: number, name: string, ...extra: Bytes[]): Bytes {
  return message(field, bytes(1, name), bytes(2, ''), bytes(3, ''), varint(7, 0), message(8), ...extra);
}
