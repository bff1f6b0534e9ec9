// The pod-template-hash: a short, stable name for a pod template. Like Kubernetes it is the
// 32-bit FNV-1a hash of the template (here of its canonical JSON: sorted keys, no empty values)
// followed, after a collision, by the Deployment's collisionCount as 4 little-endian bytes, then
// written in decimal and mapped onto the alphabet Kubernetes uses for generated names (no vowels,
// so no words). Templates that differ only in the hash label are "the same" template.

import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { deepCopy } from '../../../api/objects.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** The characters of generated names (apimachinery rand.SafeEncodeString). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a over `bytes`, continuing from `state` (unsigned 32-bit). */
export function fnv32a(bytes: Uint8Array, state = FNV32_OFFSET): number {
  let h = state >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV32_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** Each character mapped onto the safe alphabet by its code (so digits become consonants). */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/**
 * JSON with sorted keys and without null, empty lists and empty objects, so that two spellings
 * of one template are one string. Kubernetes compares templates with semantic equality, for
 * which a nil and an empty list or map are equal, and a zero-valued struct (kubectl sends
 * `resources: {}` and `creationTimestamp: null`) equals a missing one.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value) ?? {});
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v) ?? {});
    return items.length === 0 ? undefined : items;
  }
  if (value === null || typeof value !== 'object') return value ?? undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = canonical((value as Record<string, unknown>)[key]);
    if (!isEmpty(v)) out[key] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The hash of a pod template (controller.ComputeHash). */
export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncode(String(h));
}

function withoutHashLabel(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = deepCopy(template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return copy as PodTemplateSpec;
}

/** Whether two templates are equal once the pod-template-hash label is ignored (EqualIgnoreHash). */
export function templatesEqualIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(withoutHashLabel(a)) === canonicalJson(withoutHashLabel(b));
}
