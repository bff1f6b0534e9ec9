// Field selectors: the `fieldSelector=` query parameter (`metadata.name=web,status.phase!=Failed`).
// Behaviour follows apimachinery pkg/fields: terms separated by unescaped commas, each `field=value`,
// `field==value` or `field!=value`; in a value `\,`, `\=` and `\\` stand for `,`, `=` and `\`.
// Nothing is trimmed: `a = b` is the field `a ` with the value ` b`, as in Kubernetes.
//
// A field the object does not have reads as the empty string, so `spec.nodeName=` selects pods
// that are not bound yet and `spec.nodeName!=` those that are.
//
// Which fields a resource supports is the server's business: it checks `unsupportedFields` against
// its own list and builds each object's field map.

import { badRequest } from './errors.js';

export type FieldOperator = '=' | '!=';

export interface FieldRequirement {
  readonly field: string;
  /** `==` is parsed as `=`, as Kubernetes does. */
  readonly operator: FieldOperator;
  /** Unescaped. */
  readonly value: string;
}

/** The values of the selectable fields of one object, e.g. {'metadata.name': 'web', 'spec.nodeName': 'n1'}. */
export type Fields = Readonly<Record<string, string>>;

/** Escapes `\`, `,` and `=` in a value so that it can be put in a selector string (fields.EscapeValue). */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let escaping = false;
  for (const ch of value) {
    if (escaping) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${ch}`);
      }
      out += ch;
      escaping = false;
    } else if (ch === '\\') {
      escaping = true;
    } else if (ch === ',' || ch === '=') {
      // Kubernetes prints the character's code point here (Go's %v of a rune): `=` is 61.
      throw badRequest(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else {
      out += ch;
    }
  }
  if (escaping) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped; escapes stay in the terms. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaping = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (escaping) escaping = false;
    else if (ch === '\\') escaping = true;
    else if (ch === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

/** The first operator in a term; the field is what comes before it, the (escaped) value what follows. */
function splitTerm(term: string): { field: string; operator: (typeof TERM_OPERATORS)[number]; rawValue: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const operator of TERM_OPERATORS) {
      if (term.startsWith(operator, i)) return { field: term.slice(0, i), operator, rawValue: term.slice(i + operator.length) };
    }
  }
  return undefined;
}

export class FieldSelector {
  private static readonly all = new FieldSelector([]);

  private constructor(readonly requirements: readonly FieldRequirement[]) {}

  static everything(): FieldSelector {
    return FieldSelector.all;
  }

  static of(requirements: readonly FieldRequirement[]): FieldSelector {
    return requirements.length === 0 ? FieldSelector.all : new FieldSelector([...requirements]);
  }

  /** True when the selector does not restrict anything. */
  get empty(): boolean {
    return this.requirements.length === 0;
  }

  /** The distinct fields the selector mentions, in order. */
  get fieldsUsed(): string[] {
    return [...new Set(this.requirements.map((r) => r.field))];
  }

  matches(fields: Fields): boolean {
    return this.requirements.every((r) => {
      const actual = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
      return r.operator === '=' ? actual === r.value : actual !== r.value;
    });
  }

  /** The fields the selector uses that are not in `allowed` (the server turns these into its 400). */
  unsupportedFields(allowed: ReadonlySet<string>): string[] {
    return this.fieldsUsed.filter((f) => !allowed.has(f));
  }

  /** The value a `field=value` term requires, if any (lets a server use an index, e.g. spec.nodeName). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }

  /** This selector with each requirement rewritten, e.g. to map a legacy field name to the current one. */
  transform(fn: (req: FieldRequirement) => FieldRequirement): FieldSelector {
    return FieldSelector.of(this.requirements.map(fn));
  }

  /** The canonical form: terms in the order parsed (sorted), `==` written as `=`, values escaped. */
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Parses a field selector string. Throws a 400 BadRequest StatusError with Kubernetes' message for a
 * term without an operator or a badly escaped value. The empty string selects everything.
 * Terms are sorted, as Kubernetes sorts them, so equal selectors have equal strings.
 */
export function parseFieldSelector(text: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(text).sort()) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({
      field: parts.field,
      operator: parts.operator === '!=' ? '!=' : '=',
      value: unescapeFieldValue(parts.rawValue),
    });
  }
  return FieldSelector.of(requirements);
}

/** A selector requiring each field to equal its value (fields.SelectorFromSet), in key order. */
export function fieldSelectorFromSet(set: Fields): FieldSelector {
  return FieldSelector.of(
    Object.keys(set)
      .sort()
      .map((field) => ({ field, operator: '=' as const, value: set[field]! })),
  );
}
