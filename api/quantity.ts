// Resource quantities (`250m`, `0.5`, `128Mi`, `1G`, `1e3`), as apimachinery pkg/api/resource does
// them: exact fixed-point values, never floating point.
//
// - A quantity is stored as a whole number of nano-units in a bigint. Parsing keeps precision down to
//   1n and rounds anything finer away from zero ("0.1n" is 1n), so arithmetic and comparison are exact.
// - It remembers the style of its suffix (decimal SI `k M G`, binary SI `Ki Mi Gi`, or a decimal
//   exponent `e3`) and prints itself in canonical form in that style: no fractional digits, the
//   largest suffix that loses nothing (`1.5` → `1500m`, `1.5Gi` → `1536Mi`, `1000Ki` → `1000Ki`,
//   `1024Ki` → `1Mi`). Binary quantities below 1024 or with a fraction print as decimal (`0.5Ki` → `512`).
// - A binary quantity is capped at 2^63-1 when parsed ("9Ei"), as in Kubernetes; decimal ones are not.
// - Like Kubernetes, a parsed string that is already canonical is kept verbatim (so "100m" round-trips
//   byte for byte and kubectl apply/diff see no change); arithmetic results are always canonical.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Kubernetes' message for text that is not a quantity (resource.ErrFormatWrong). */
export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC_MESSAGE = 'unable to parse numeric part of quantity';
const SUFFIX_MESSAGE = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

const NANOS_PER_UNIT = 10n ** 9n;
const MAX_BINARY_UNITS = 2n ** 63n - 1n;
/** Decimal exponents beyond this are refused rather than expanded into enormous bigints. */
const MAX_DECIMAL_EXPONENT = 100;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** n / d rounded away from zero (Kubernetes rounds "up" in magnitude everywhere). */
function divideAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (n % d === 0n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function sign(n: bigint): -1 | 0 | 1 {
  return n < 0n ? -1 : n > 0n ? 1 : 0;
}

/**
 * Quantities already parsed, by their text. A quantity never changes, and the same few texts
 * ('100m', '128Mi') recur in every pod that the API server validates and the scheduler counts;
 * parsing one exactly (with bigints) costs a few microseconds.
 */
const parsedQuantities = new Map<string, Quantity>();
const MAX_PARSED_QUANTITIES = 4096;

export class Quantity {
  private constructor(
    /** The exact value in units of 10^-9. */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
    /** The text it was parsed from, kept when Kubernetes would keep it. */
    private readonly text?: string,
  ) {}

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format);
  }

  /** A whole number of units, e.g. `Quantity.fromValue(134217728, 'BinarySI')` is `128Mi`. */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value) * NANOS_PER_UNIT, format);
  }

  /** A whole number of thousandths, e.g. `Quantity.fromMilli(250)` is `250m` (CPU). */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(milli) * 10n ** 6n, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  /** See parseQuantity. */
  static parse(input: string | number): Quantity {
    const known = typeof input === 'string' ? parsedQuantities.get(input) : undefined;
    if (known) return known;
    const parsed = parseParts(input);
    const quantity = new Quantity(parsed.nanos, parsed.format, parsed.text);
    if (typeof input === 'string') {
      if (parsedQuantities.size >= MAX_PARSED_QUANTITIES) parsedQuantities.clear();
      parsedQuantities.set(input, quantity);
    }
    return quantity;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return sign(this.nanos);
  }

  /** The value in units, rounded away from zero (Kubernetes Value(): `100m` → 1). Exact up to 2^53. */
  value(): number {
    return Number(divideAwayFromZero(this.nanos, NANOS_PER_UNIT));
  }

  /** The value in thousandths, rounded away from zero (Kubernetes MilliValue(): `0.5` → 500). */
  milliValue(): number {
    return Number(divideAwayFromZero(this.nanos, 10n ** 6n));
  }

  /** A float approximation, for metrics and ratios only. */
  asApproximateNumber(): number {
    return Number(this.nanos) / 1e9;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return sign(this.nanos - other.nanos);
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** The sum. As in Kubernetes, a zero quantity takes the other's format, so 0 + 1Gi prints `1Gi`. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** The quantity times a whole number (e.g. per-pod requests × replicas). */
  mul(factor: number | bigint): Quantity {
    return new Quantity(this.nanos * toBigInt(factor), this.format);
  }

  /** The canonical form in this quantity's own style, ignoring the text it was parsed from. */
  canonical(): string {
    return canonicalText(this.nanos, this.format);
  }

  /** What Kubernetes serializes: the parsed text when it was canonical, otherwise the canonical form. */
  toString(): string {
    return this.text ?? this.canonical();
  }

  toJSON(): string {
    return this.toString();
  }
}

function toBigInt(value: number | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not a whole number`);
  return BigInt(value);
}

function canonicalText(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  let style = format;
  const bound = 1024n * NANOS_PER_UNIT;
  // Small or fractional binary quantities print as decimal, so nothing is rounded.
  if (style === 'BinarySI' && ((nanos > -bound && nanos < bound) || nanos % NANOS_PER_UNIT !== 0n)) style = 'DecimalSI';

  if (style === 'BinarySI') {
    let units = nanos / NANOS_PER_UNIT;
    let power = 0;
    while (power < BINARY_SUFFIX_BY_POWER.length - 1 && units % 1024n === 0n) {
      units /= 1024n;
      power++;
    }
    return `${units}${BINARY_SUFFIX_BY_POWER[power]}`;
  }

  // Move factors of ten into the exponent, then back down to a multiple of three (an SI step).
  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const excess = ((exponent % 3) + 3) % 3;
  mantissa *= pow10(excess);
  exponent -= excess;

  if (style === 'DecimalSI') {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent);
    // Beyond `E` there is no SI suffix; Kubernetes falls back to exponent notation.
    if (suffix !== undefined) return `${mantissa}${suffix}`;
  }
  return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
}

interface ScannedQuantity {
  negative: boolean;
  /** Integer digits without leading zeros ("0" if there were none). */
  whole: string;
  /** Digits after the decimal point. */
  fraction: string;
  suffix: string;
  hasDigits: boolean;
}

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const SUFFIX_LETTERS = 'eEinumkKMGTP';

/** Splits text into sign, number and suffix the way Kubernetes' scanner does (it accepts `1.`, `.5`, `+`). */
function scanQuantity(text: string): ScannedQuantity {
  const result: ScannedQuantity = { negative: false, whole: '0', fraction: '', suffix: '', hasDigits: false };
  let pos = 0;
  if (text[0] === '-' || text[0] === '+') {
    result.negative = text[0] === '-';
    pos++;
  }
  while (text[pos] === '0') {
    pos++;
    result.hasDigits = true;
  }
  if (pos >= text.length) return result;
  const wholeStart = pos;
  while (isDigit(text[pos])) pos++;
  if (pos > wholeStart) {
    result.whole = text.slice(wholeStart, pos);
    result.hasDigits = true;
  }
  if (text[pos] === '.') {
    pos++;
    const fractionStart = pos;
    while (isDigit(text[pos])) pos++;
    result.fraction = text.slice(fractionStart, pos);
    if (result.fraction) result.hasDigits = true;
  }
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_LETTERS.includes(text[pos]!)) pos++;
  if (text[pos] === '-' || text[pos] === '+') pos++;
  while (isDigit(text[pos])) pos++;
  if (pos < text.length) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  result.suffix = text.slice(suffixStart);
  return result;
}

type SuffixMeaning = { base: 10 | 2; exponent: number; format: QuantityFormat };

function interpretSuffix(suffix: string): SuffixMeaning {
  if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix]!, format: 'DecimalSI' };
  if (Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: BINARY_SUFFIXES[suffix]!, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) throw new QuantityError(`quantity exponent ${exponent} is out of range`);
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  throw new QuantityError(SUFFIX_MESSAGE);
}

interface ParsedParts {
  nanos: bigint;
  format: QuantityFormat;
  text?: string;
}

function parseParts(input: string | number): ParsedParts {
  if (typeof input === 'number' && !Number.isFinite(input)) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  const text = String(input);
  if (text.length === 0) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  if (text === '0') return { nanos: 0n, format: 'DecimalSI', text: '0' };

  const scanned = scanQuantity(text);
  const { base, exponent, format } = interpretSuffix(scanned.suffix);
  const digits = scanned.whole + scanned.fraction;
  const sign = scanned.negative ? -1n : 1n;

  // Kubernetes' fast path (an int64 mantissa at a scale of at least nano) decides whether the
  // original text is reused as the serialized form; the value is the same either way.
  const decimalScale = base === 10 ? exponent - scanned.fraction.length : 0;
  const fitsFastPath =
    base === 10
      ? 18 - digits.length >= 0 && decimalScale >= -9
      : scanned.fraction.length === 0 && 15 - scanned.whole.length - (exponent * 3) / 10 - 1 >= 0;
  if (fitsFastPath) {
    const mantissa = BigInt(digits);
    const nanos =
      base === 10 ? sign * mantissa * pow10(decimalScale + 9) : sign * mantissa * 2n ** BigInt(exponent) * NANOS_PER_UNIT;
    const keepText =
      base === 2
        ? (mantissa & 7n) !== 0n
        : decimalScale % 3 === 0 && !digits.endsWith('000') && digits[0] !== '0';
    return keepText ? { nanos, format, text } : { nanos, format };
  }

  if (!scanned.hasDigits) throw new QuantityError(NUMERIC_MESSAGE);
  // Exact value in nanos = digits × base^exponent × 10^(9 - fraction length); round the magnitude up.
  let numerator = BigInt(digits);
  let denominator = 1n;
  let tens = 9 - scanned.fraction.length;
  if (base === 2) numerator *= 2n ** BigInt(exponent);
  else tens += exponent;
  if (tens >= 0) numerator *= pow10(tens);
  else denominator = pow10(-tens);
  let magnitude = divideAwayFromZero(numerator, denominator);
  let finalFormat = format;
  if (format === 'BinarySI') {
    if (magnitude > MAX_BINARY_UNITS * NANOS_PER_UNIT) magnitude = MAX_BINARY_UNITS * NANOS_PER_UNIT;
    if (magnitude > 0n && magnitude < NANOS_PER_UNIT) finalFormat = 'DecimalSI';
  }
  return { nanos: sign * magnitude, format: finalFormat };
}

/**
 * Parses a quantity. Numbers are accepted too (YAML `cpu: 0.5` arrives as a JSON number).
 * Throws QuantityError with Kubernetes' message for malformed text.
 */
export function parseQuantity(input: string | number): Quantity {
  return Quantity.parse(input);
}

/** parseQuantity, or undefined when the text is not a quantity. */
export function tryParseQuantity(input: string | number): Quantity | undefined {
  try {
    return parseQuantity(input);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

/** The serialized form of a quantity (what the API server writes back). */
export function formatQuantity(quantity: Quantity): string {
  return quantity.toString();
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.cmp(b);
}
