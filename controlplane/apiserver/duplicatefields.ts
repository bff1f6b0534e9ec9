// Duplicate fields in JSON and YAML request bodies. JSON.parse and the yaml package keep the
// last of two equal keys and say nothing; kube-apiserver's strict decoder (sigs.k8s.io/json for
// JSON, go-yaml's strict mode for YAML), which it runs under fieldValidation=Strict and Warn,
// reports each repeat as a strict error: `duplicate field "spec.replicas"`, or for YAML
// `line 7: key "replicas" already set in map`.
//
// Go's decoder also keeps more than the last value: decoding into a struct, a field given twice
// is decoded twice into the same place, so objects (structs and maps) merge and list items are
// decoded into the items already there; only scalars are simply replaced. Values of type
// interface{} (patches, kinds without type data) are replaced whole, as JSON.parse does.
//
// A JSON body without duplicates pays only for mayHaveDuplicateKeys, a cheap test that can prove
// there are none; a body it cannot clear is read again, by decodeLikeGo (typed) or
// duplicateFields (untyped). Patches go to duplicateFields directly: they are not parsed here.
// (JSON parsers that report duplicate keys, such as jsonc-parser's visitor or momoa, cost 3 to
// 20 times JSON.parse; the cheap test costs about half of it, duplicateFields about as much.)

import YAML, { isMap, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import { definition } from '../../api/schema/definitions.js';
import type { FieldType, ObjectDefinition } from '../../api/schema/model.js';
import { FieldPath } from './validation/field-path.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** sigs.k8s.io/json stops collecting strict errors after this many. */
const MAX_STRICT_ERRORS = 100;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let b = at - 1;
  while (text.charCodeAt(b) === BACKSLASH) b--;
  return (at - 1 - b) % 2 === 1;
}

/** The index of the quote closing the string whose opening quote is at `open` (-1: none). */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
  return end;
}

/** The text of the string whose opening quote is at `open`, unescaped only when it has to be. */
function stringAt(text: string, open: number, end: number): string {
  const raw = text.slice(open + 1, end);
  return raw.includes('\\') ? (JSON.parse(text.slice(open, end + 1)) as string) : raw;
}

// ---------------------------------------------------------------------------------------------
// The cheap test

/**
 * False when the JSON `text`, which JSON.parse read into `parsed`, repeats no key in any object.
 * It compares two counts: the quotes that may end a key (unescaped, followed by `:`) and the keys
 * JSON.parse kept. Every key occurrence ends with such a quote, and the only other such quotes
 * open a string value starting with `:`, so equal counts prove that no key was dropped; a larger
 * count says "maybe" (the exact readers below decide).
 */
export function mayHaveDuplicateKeys(text: string, parsed: unknown): boolean {
  return keyEndings(text) > keptKeys(parsed);
}

function keyEndings(text: string): number {
  let count = 0;
  for (let q = text.indexOf('"'); q !== -1; q = text.indexOf('"', q + 1)) {
    let next = q + 1;
    while (isWhitespace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === COLON && !isEscaped(text, q)) count++;
  }
  return count;
}

/** The keys of every object in a parsed JSON value (iteratively: JSON nests deeper than a call stack). */
function keptKeys(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    for (const key in v) {
      count++;
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) pending.push(item);
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Untyped: every repeated key, as decoding into map[string]interface{} reports them

interface ObjectFrame {
  /** The keys seen, and whether a repeat of each was reported already. */
  keys: Map<string, boolean>;
  key: string;
}

interface ArrayFrame {
  index: number;
}

/** Go's strict-error path of a key inside the open containers: `spec.containers[0].name`. */
function pathOf(frames: readonly (ObjectFrame | ArrayFrame)[], key: string): string {
  let path = '';
  for (const frame of frames.slice(0, -1)) path += 'index' in frame ? `[${frame.index}]` : path ? `.${frame.key}` : frame.key;
  return path ? `${path}.${key}` : key;
}

/**
 * The strict errors for every key repeated in the same object of the JSON `text`, in document
 * order, as sigs.k8s.io/json reports them decoding into map[string]interface{} (what
 * kube-apiserver does with merge and strategic merge patches): `duplicate field "spec.replicas"`.
 * Malformed JSON (which its parser will refuse) ends the search where a string is not closed.
 */
export function duplicateFields(text: string): string[] {
  const errors = new StrictErrors();
  const frames: (ObjectFrame | ArrayFrame)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) break;
      const frame = frames.at(-1);
      if (expectKey && frame && 'keys' in frame) {
        frame.key = stringAt(text, i, end);
        const reported = frame.keys.get(frame.key);
        if (reported === false) errors.add('duplicate field', pathOf(frames, frame.key));
        frame.keys.set(frame.key, reported !== undefined);
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      frames.push({ keys: new Map(), key: '' });
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      frames.push({ index: 0 });
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      frames.pop();
    } else if (c === COMMA) {
      const frame = frames.at(-1);
      if (frame && 'index' in frame) frame.index++;
      else expectKey = true;
    }
  }
  return errors.list;
}

/** sigs.k8s.io/json's saveStrictError: each error once, at most MAX_STRICT_ERRORS. */
class StrictErrors {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();

  add(what: 'unknown field' | 'duplicate field', path: string): void {
    if (this.list.length >= MAX_STRICT_ERRORS) return;
    const error = `${what} ${JSON.stringify(path)}`;
    if (this.seen.has(error)) return;
    this.seen.add(error);
    this.list.push(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Typed: a kind's body read the way Go decodes it into the kind's struct

/** A cursor over JSON that JSON.parse has already accepted (so no syntax checks). */
class JsonCursor {
  pos = 0;

  constructor(readonly text: string) {}

  /** The next significant character, after whitespace. */
  peek(): number {
    while (isWhitespace(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.charCodeAt(this.pos);
  }

  /** Steps over the character peek() returned. */
  next(): void {
    this.pos++;
  }

  string(): string {
    const open = this.pos;
    const end = stringEnd(this.text, open);
    this.pos = end + 1;
    return stringAt(this.text, open, end);
  }

  /** The next value as JSON.parse reads it, scanned without recursion (it may nest deeply). */
  plain(): unknown {
    if (this.peek() === QUOTE) return this.string(); // the most common value, without JSON.parse
    const start = this.pos;
    let depth = 0;
    do {
      const c = this.peek();
      if (c === QUOTE) {
        this.pos = stringEnd(this.text, this.pos) + 1;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      else if (c !== COLON && c !== COMMA) {
        // A number, true, false or null.
        while (this.pos < this.text.length && !isDelimiter(this.text.charCodeAt(this.pos))) this.pos++;
        continue;
      }
      this.pos++;
    } while (depth > 0);
    return JSON.parse(this.text.slice(start, this.pos));
  }
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWhitespace(c);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON object decodes into: a struct, with its fields, or a map, whose keys are data. */
type ObjectShape = { kind: 'struct'; def: ObjectDefinition } | { kind: 'map'; values: FieldType };

function objectShapeOf(type: FieldType): ObjectShape | undefined {
  if (type.type === 'map') return { kind: 'map', values: type.values };
  if (type.type !== 'ref') return undefined;
  const def = definition(type.ref);
  return def?.type === 'object' ? { kind: 'struct', def } : undefined;
}

class GoDecoder {
  readonly errors = new StrictErrors();

  constructor(private readonly json: JsonCursor) {}

  /**
   * The value at the cursor, decoded into `existing` (what an earlier occurrence of the same
   * field left). Values Go hands whole to a decoder of their own (Time, Quantity, IntOrString,
   * RawExtension), scalars, and values of the wrong JSON type (the field walk reports those) are
   * read plainly and replace what was there. So does null, which Go would ignore for a
   * non-pointer struct (types.json does not say which fields are pointers).
   */
  value(type: FieldType, existing: unknown, path: FieldPath): unknown {
    const c = this.json.peek();
    const shape = c === OPEN_BRACE ? objectShapeOf(type) : undefined;
    if (shape) return this.object(shape, existing, path);
    if (c === OPEN_BRACKET && type.type === 'array') return this.array(type.items, existing, path);
    return this.json.plain();
  }

  /**
   * A struct or a map, merged into the object an earlier occurrence decoded. A struct's fields
   * are decoded into what they hold; a map's values start afresh (Go's mapElem). Repeats count
   * within this occurrence only.
   */
  private object(shape: ObjectShape, existing: unknown, path: FieldPath): Record<string, unknown> {
    const target = isPlainObject(existing) ? existing : {};
    // Key → whether it was reported (repeats are reported once, as Go dedupes its errors).
    const seen = new Map<string, boolean>();
    this.json.next();
    while (this.json.peek() !== CLOSE_BRACE) {
      const key = this.json.string();
      this.json.peek();
      this.json.next(); // the colon
      const at = path.child(key);
      const type = shape.kind === 'map' ? shape.values : Object.hasOwn(shape.def.properties, key) ? shape.def.properties[key] : undefined;
      const reported = seen.get(key);
      seen.set(key, reported !== undefined);
      if (type) {
        if (reported === false) this.errors.add('duplicate field', at.toString());
        target[key] = this.value(type, shape.kind === 'map' ? undefined : target[key], at);
      } else {
        // Go skips the value of a field the struct does not have; Skiff keeps it for pruning.
        if (reported === undefined) this.errors.add('unknown field', at.toString());
        target[key] = this.json.plain();
      }
      if (this.json.peek() === COMMA) this.json.next();
    }
    this.json.next();
    return target;
  }

  /** A list: item i is decoded into item i of an earlier occurrence, as Go reuses the slice. */
  private array(items: FieldType, existing: unknown, path: FieldPath): unknown[] {
    const previous = Array.isArray(existing) ? existing : [];
    const out: unknown[] = [];
    this.json.next();
    while (this.json.peek() !== CLOSE_BRACKET) {
      out.push(this.value(items, previous[out.length], path.index(out.length)));
      if (this.json.peek() === COMMA) this.json.next();
    }
    this.json.next();
    return out;
  }
}

/**
 * Decodes the JSON `text` (an object JSON.parse accepted) as sigs.k8s.io/json's strict mode
 * decodes it into the Go struct of `definitionName`: the merged value, and the strict errors
 * (unknown and duplicate fields) in the order Go finds them.
 */
export function decodeLikeGo(text: string, definitionName: string): { value: Record<string, unknown>; strictErrors: string[] } {
  const decoder = new GoDecoder(new JsonCursor(text));
  const value = decoder.value({ type: 'ref', ref: definitionName }, undefined, FieldPath.of());
  return { value: value as Record<string, unknown>, strictErrors: decoder.errors.list };
}

// ---------------------------------------------------------------------------------------------
// YAML

/**
 * The error go-yaml's strict mode gives for the repeated keys of a YAML body (kube-apiserver runs
 * it beside the JSON decoding), or undefined: `yaml: unmarshal errors:\n  line 7: key "replicas"
 * already set in map`, a line per repeat, numbered by the line of the repeat's value, keys inside
 * a value before the key holding it.
 */
export function yamlDuplicateKeys(text: string): string | undefined {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter });
  const lines: string[] = [];
  const walk = (node: unknown): void => {
    if (isSeq(node)) {
      for (const item of node.items) walk(item);
    } else if (isMap(node)) {
      const keys = new Set<unknown>();
      for (const pair of node.items) {
        walk(pair.value);
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (keys.has(key)) {
          const start = (pair.value as Node | null)?.range?.[0] ?? (pair.key as Node | null)?.range?.[0] ?? 0;
          // go-yaml prints the key with %#v: strings quoted, numbers and booleans bare.
          lines.push(`line ${lineCounter.linePos(start).line}: key ${typeof key === 'string' ? JSON.stringify(key) : String(key)} already set in map`);
        }
        keys.add(key);
      }
    }
  };
  walk(doc.contents);
  return lines.length > 0 ? `yaml: unmarshal errors:\n  ${lines.join('\n  ')}` : undefined;
}
