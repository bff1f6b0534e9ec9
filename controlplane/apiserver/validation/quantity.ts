// Resource quantities for validation and defaulting, over api/quantity.ts: parse without
// throwing (a malformed quantity is one more field error), and the milli rounding that
// core/v1 SetDefaults_ResourceList applies to resource lists.

import type { Quantity } from '../../../api/quantity.js';
import { Quantity as QuantityValue, QUANTITY_FORMAT_MESSAGE, QuantityError, parseQuantity as parse } from '../../../api/quantity.js';

export type { Quantity };

/** Parses a quantity as JSON carries it (a string, or a number); a string result is Kubernetes' error message. */
export function parseQuantity(raw: unknown): Quantity | string {
  if (typeof raw !== 'string' && typeof raw !== 'number') return QUANTITY_FORMAT_MESSAGE;
  try {
    return parse(raw);
  } catch (err) {
    if (err instanceof QuantityError) return err.message;
    throw err;
  }
}

const NANOS_PER_MILLI = 1_000_000n;

/** Rounded up to milli precision (only a change for values finer than `1m`). */
export function roundUpToMilli(q: Quantity): Quantity {
  const rem = q.nanos % NANOS_PER_MILLI;
  if (rem === 0n) return q;
  return QuantityValue.fromNanos(q.nanos > 0n ? q.nanos - rem + NANOS_PER_MILLI : q.nanos - rem, q.format);
}

export function isWholeNumber(q: Quantity): boolean {
  return q.nanos % 1_000_000_000n === 0n;
}

export function formatQuantity(q: Quantity): string {
  return q.toString();
}

export function compareQuantities(a: Quantity, b: Quantity): number {
  return a.cmp(b);
}
