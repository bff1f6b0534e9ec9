// Label selectors: the `labelSelector=` query parameter kubectl sends (`app=web,tier in (a,b),!canary`)
// and the meta/v1 LabelSelector objects in Deployments, ReplicaSets, Jobs and affinity terms.
// Behaviour follows apimachinery pkg/labels (parser, matching, canonical string) and the metav1
// LabelSelector helpers (conversion, validation, formatting).
//
// Two selectors are special, as in Kubernetes:
// - `LabelSelector.everything()`: no requirements, matches every object (`empty` is true). This is
//   what an empty string and an empty meta/v1 LabelSelector object (`{}`) mean.
// - `LabelSelector.nothing()`: matches no object. This is what a null/absent meta/v1 LabelSelector
//   means (metav1.LabelSelectorAsSelector): a controller with no selector must not adopt everything.
//   Its string form is '' like Kubernetes' nothingSelector, so keep the object, not the string,
//   when the difference matters.

import type { LabelSelector as MetaLabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import { badRequest, fieldError, fieldErrorMessage, type FieldError } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

/** The operators of apimachinery's `selection` package, spelled as Kubernetes spells them. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Empty for `exists` and `!`; exactly one for `=`, `==`, `!=`, `gt`, `lt`; one or more for `in`/`notin`. */
  readonly values: readonly string[];
}

/** An object's labels. `undefined` (no labels) behaves like `{}`. */
export type Labels = Readonly<Record<string, string>>;

function hasLabel(labels: Labels | null | undefined, key: string): labels is Labels {
  return labels != null && Object.hasOwn(labels, key);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits within int64. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** Whether one requirement holds for a set of labels (apimachinery Requirement.Matches). */
export function requirementMatches(req: LabelRequirement, labels: Labels | null | undefined): boolean {
  switch (req.operator) {
    case '=':
    case '==':
    case 'in':
      return hasLabel(labels, req.key) && req.values.includes(labels[req.key]!);
    case '!=':
    case 'notin':
      // A missing label is "not equal" to anything: `tier!=db` selects objects with no tier.
      return !hasLabel(labels, req.key) || !req.values.includes(labels[req.key]!);
    case 'exists':
      return hasLabel(labels, req.key);
    case '!':
      return !hasLabel(labels, req.key);
    case 'gt':
    case 'lt': {
      if (!hasLabel(labels, req.key) || req.values.length !== 1) return false;
      const actual = parseInt64(labels[req.key]!);
      const bound = parseInt64(req.values[0]!);
      if (actual === undefined || bound === undefined) return false;
      return req.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/** The canonical string of one requirement: `a=b`, `a in (x,y)`, `!a`, values sorted. */
export function requirementToString(req: LabelRequirement): string {
  const values = [...req.values].sort().join(',');
  switch (req.operator) {
    case 'exists':
      return req.key;
    case '!':
      return `!${req.key}`;
    case 'in':
      return `${req.key} in (${values})`;
    case 'notin':
      return `${req.key} notin (${values})`;
    case 'gt':
      return `${req.key}>${values}`;
    case 'lt':
      return `${req.key}<${values}`;
    default:
      return `${req.key}${req.operator}${values}`;
  }
}

function byKey(a: LabelRequirement, b: LabelRequirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class LabelSelector {
  private static readonly all = new LabelSelector([], false);
  private static readonly none = new LabelSelector([], true);

  private constructor(
    /** The requirements, ANDed, sorted by key (as Kubernetes sorts them, for a deterministic string). */
    readonly requirements: readonly LabelRequirement[],
    /** True only for `LabelSelector.nothing()`. */
    readonly selectsNothing: boolean,
  ) {}

  /** Matches every object: the empty string, `{}`. */
  static everything(): LabelSelector {
    return LabelSelector.all;
  }

  /** Matches no object: a null meta/v1 LabelSelector. */
  static nothing(): LabelSelector {
    return LabelSelector.none;
  }

  /** A selector from requirements that are already valid (see `labelRequirement` to build checked ones). */
  static of(requirements: readonly LabelRequirement[]): LabelSelector {
    if (requirements.length === 0) return LabelSelector.all;
    return new LabelSelector([...requirements].sort(byKey), false);
  }

  /** True when the selector does not restrict anything (matches every object). */
  get empty(): boolean {
    return !this.selectsNothing && this.requirements.length === 0;
  }

  matches(labels: Labels | null | undefined): boolean {
    if (this.selectsNothing) return false;
    return this.requirements.every((req) => requirementMatches(req, labels));
  }

  /** This selector with more requirements ANDed in (apimachinery Selector.Add). `nothing()` stays nothing. */
  and(...requirements: LabelRequirement[]): LabelSelector {
    if (this.selectsNothing) return this;
    return LabelSelector.of([...this.requirements, ...requirements]);
  }

  /**
   * The single value the selector requires `key` to have (`key=v`, `key==v`, `key in (v)`), if any.
   * Lets a server use an index instead of scanning, as Kubernetes' RequiresExactMatch does.
   */
  requiresExactMatch(key: string): string | undefined {
    const req = this.requirements.find((r) => r.key === key);
    if (!req || !['=', '==', 'in'].includes(req.operator) || req.values.length !== 1) return undefined;
    return req.values[0];
  }

  /** The canonical form, e.g. `app=web,tier in (backend,cache)`; '' for everything() and nothing(). */
  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }

  toJSON(): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------------------------
// Requirements with validation (apimachinery labels.NewRequirement).

function childPath(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** The problems with a requirement, as field errors under `path` (`key`, `values[0][app]`, ...). */
function requirementErrors(key: string, operator: LabelOperator, values: readonly string[], path = ''): FieldError[] {
  const errs: FieldError[] = [];
  const keyProblems = isQualifiedName(key);
  if (keyProblems.length > 0) errs.push(fieldError.invalid(childPath(path, 'key'), key, keyProblems.join('; ')));
  const valuesPath = childPath(path, 'values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) {
        errs.push(fieldError.invalid(valuesPath, [...values], "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) {
        errs.push(fieldError.invalid(valuesPath, [...values], 'exact-match compatibility requires one single value'));
      }
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) {
        errs.push(fieldError.invalid(valuesPath, [...values], 'values set must be empty for exists and does not exist'));
      }
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) {
        errs.push(fieldError.invalid(valuesPath, [...values], "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      values.forEach((value, i) => {
        if (parseInt64(value) === undefined) {
          errs.push(fieldError.invalid(`${valuesPath}[${i}]`, value, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
  }
  values.forEach((value, i) => {
    const problems = isValidLabelValue(value);
    if (problems.length > 0) errs.push(fieldError.invalid(`${valuesPath}[${i}][${key}]`, value, problems.join('; ')));
  });
  return errs;
}

/** Go's aggregate error text: the one message, or `[first, second]`. */
function aggregate(errs: readonly FieldError[]): string {
  const messages = errs.map(fieldErrorMessage);
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
}

/** A checked requirement; throws a 400 BadRequest StatusError when the key, operator or values are invalid. */
export function labelRequirement(key: string, operator: LabelOperator, values: readonly string[] = []): LabelRequirement {
  const errs = requirementErrors(key, operator, values);
  if (errs.length > 0) throw badRequest(aggregate(errs));
  return { key, operator, values: [...values] };
}

// ---------------------------------------------------------------------------------------------
// The string syntax (apimachinery labels.Parse):
//   selector    ::= requirement ("," requirement)*
//   requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
// Whitespace separates tokens; `in` and `notin` are keywords only where an operator is expected,
// so `in in (in)` is a valid requirement on the key `in`.

type TokenKind = 'end' | 'identifier' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Token {
  kind: TokenKind;
  text: string;
}

const SPECIAL_CHARS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (true) {
    while (pos < text.length && WHITESPACE.has(text[pos]!)) pos++;
    if (pos >= text.length) {
      tokens.push({ kind: 'end', text: '' });
      return tokens;
    }
    const two = text.slice(pos, pos + 2);
    if (two === '!=' || two === '==') {
      tokens.push({ kind: two, text: two });
      pos += 2;
    } else if (SPECIAL_CHARS.has(text[pos]!)) {
      const one = text[pos]! as TokenKind;
      tokens.push({ kind: one, text: one });
      pos += 1;
    } else {
      const start = pos;
      while (pos < text.length && !SPECIAL_CHARS.has(text[pos]!) && !WHITESPACE.has(text[pos]!)) pos++;
      const word = text.slice(start, pos);
      tokens.push({ kind: word === 'in' || word === 'notin' ? word : 'identifier', text: word });
    }
  }
}

/** Error text that the parser reports without the `unable to parse requirement: ` prefix. */
class SyntaxProblem extends Error {}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class SelectorParser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  /** The next token; outside operator position the keywords `in`/`notin` are plain identifiers. */
  private peek(operatorPosition = false): Token {
    const token = this.tokens[this.position]!;
    if (!operatorPosition && (token.kind === 'in' || token.kind === 'notin')) return { kind: 'identifier', text: token.text };
    return token;
  }

  private next(operatorPosition = false): Token {
    const token = this.peek(operatorPosition);
    if (this.position < this.tokens.length - 1) this.position++;
    return token;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    while (true) {
      const start = this.peek();
      if (start.kind === 'end') return requirements;
      if (start.kind !== 'identifier' && start.kind !== '!') {
        throw new SyntaxProblem(`found '${start.text}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.requirement());
      } catch (err) {
        if (err instanceof SyntaxProblem) throw new SyntaxProblem(`unable to parse requirement: ${err.message}`);
        throw err;
      }
      const after = this.next();
      if (after.kind === 'end') return requirements;
      if (after.kind !== ',') throw new SyntaxProblem(`found '${after.text}', expected: ',' or 'end of string'`);
      const following = this.peek();
      if (following.kind !== 'identifier' && following.kind !== '!') {
        throw new SyntaxProblem(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): LabelRequirement {
    let negated = false;
    let keyToken = this.next();
    if (keyToken.kind === '!') {
      negated = true;
      keyToken = this.next();
    }
    if (keyToken.kind !== 'identifier') throw new SyntaxProblem(`found '${keyToken.text}', expected: identifier`);
    const key = keyToken.text;
    const keyProblems = isQualifiedName(key);
    // Kubernetes validates the key here with an unset field path, which prints as `<nil>`.
    if (keyProblems.length > 0) {
      throw new SyntaxProblem(fieldErrorMessage(fieldError.invalid('<nil>', key, keyProblems.join('; '))));
    }
    const lookahead = this.peek().kind;
    // `!key` is complete whatever follows; a following operator is then reported by the caller.
    if (negated) return this.checked(key, '!', []);
    if (lookahead === 'end' || lookahead === ',') return this.checked(key, 'exists', []);

    const operator = this.operator();
    const values = operator === 'in' || operator === 'notin' ? this.valueSet() : this.exactValue();
    return this.checked(key, operator, [...values].sort());
  }

  private checked(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
    const errs = requirementErrors(key, operator, values);
    if (errs.length > 0) throw new SyntaxProblem(aggregate(errs));
    return { key, operator, values };
  }

  private operator(): LabelOperator {
    const token = this.next(true);
    switch (token.kind) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token.kind;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new SyntaxProblem(`found '${token.text}', expected: ${BINARY_OPERATORS}`);
    }
  }

  /** `(a, b, c)`; empty entries (`()`, `(a,)`, `(,)`) stand for the empty value, as in Kubernetes. */
  private valueSet(): Set<string> {
    const open = this.next();
    if (open.kind !== '(') throw new SyntaxProblem(`found '${open.text}' expected: '('`);
    const values = new Set<string>();
    const first = this.peek();
    if (first.kind === ')') {
      this.next();
      values.add('');
      return values;
    }
    if (first.kind !== 'identifier' && first.kind !== ',') {
      throw new SyntaxProblem(`found '${first.text}', expected: ',', ')' or identifier`);
    }
    while (true) {
      const token = this.next();
      if (token.kind === 'identifier') {
        values.add(token.text);
        const after = this.peek();
        if (after.kind === ')') break;
        if (after.kind !== ',') throw new SyntaxProblem(`found '${after.text}', expected: ',' or ')'`);
      } else if (token.kind === ',') {
        if (values.size === 0) values.add('');
        const after = this.peek();
        if (after.kind === ')') {
          values.add('');
          break;
        }
        if (after.kind === ',') {
          this.next();
          values.add('');
        }
      } else {
        throw new SyntaxProblem(`found '${token.text}', expected: ',', or identifier`);
      }
    }
    this.next(); // the ')' seen above
    return values;
  }

  /** The value after `=`, `==`, `!=`, `>` or `<`; nothing before `,` or the end means the empty value. */
  private exactValue(): string[] {
    const lookahead = this.peek();
    if (lookahead.kind === 'end' || lookahead.kind === ',') return [''];
    const token = this.next();
    if (token.kind !== 'identifier') throw new SyntaxProblem(`found '${token.text}', expected: identifier`);
    return [token.text];
  }
}

/**
 * Parses the string form of a label selector (`labelSelector=` in a list or watch request).
 * Throws a 400 BadRequest StatusError with Kubernetes' message when the syntax, a key or a value
 * is invalid. The empty string selects everything.
 */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    return LabelSelector.of(new SelectorParser(tokenize(text)).parse());
  } catch (err) {
    if (err instanceof SyntaxProblem) throw badRequest(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// meta/v1 LabelSelector objects.

/** A selector that matches exactly the given labels; empty or absent means everything (labels.SelectorFromSet). */
export function selectorFromSet(set: Labels | null | undefined): LabelSelector {
  if (!set) return LabelSelector.everything();
  return LabelSelector.of(Object.entries(set).map(([key, value]) => ({ key, operator: '=', values: [value] })));
}

const META_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

function requirementShapeErrors(expr: LabelSelectorRequirement, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = expr.values ?? [];
  switch (expr.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push(fieldError.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(fieldError.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    default:
      errs.push(fieldError.invalid(`${path}.operator`, expr.operator, 'not a valid selector operator'));
  }
  for (const msg of isQualifiedName(expr.key)) errs.push(fieldError.invalid(`${path}.key`, expr.key, msg));
  values.forEach((value, i) => {
    for (const msg of isValidLabelValue(value)) errs.push(fieldError.invalid(`${path}.values[${i}]`, value, msg));
  });
  return errs;
}

/**
 * The field errors of a meta/v1 LabelSelector at `path` (metav1 validation.ValidateLabelSelector):
 * invalid matchLabels keys or values, In/NotIn without values, Exists/DoesNotExist with values,
 * unknown operators. A null selector has no errors (whether one is required is the caller's rule).
 */
export function validateLabelSelector(selector: MetaLabelSelector | null | undefined, path = ''): FieldError[] {
  if (!selector) return [];
  const errs: FieldError[] = [];
  const labelsPath = childPath(path, 'matchLabels');
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    for (const msg of isQualifiedName(key)) errs.push(fieldError.invalid(labelsPath, key, msg));
    for (const msg of isValidLabelValue(value)) errs.push(fieldError.invalid(labelsPath, value, msg));
  }
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...requirementShapeErrors(expr, `${childPath(path, 'matchExpressions')}[${i}]`));
  });
  return errs;
}

export type SelectorConversion = { ok: true; selector: LabelSelector } | { ok: false; errors: FieldError[] };

/**
 * Converts a meta/v1 LabelSelector (matchLabels + matchExpressions) into a selector
 * (metav1.LabelSelectorAsSelector). Null or absent → `nothing()`; `{}` → `everything()`.
 * Invalid selectors come back as field errors under `path` (e.g. 'spec.selector') for the
 * caller's 422, rather than as an exception.
 */
export function selectorFromLabelSelector(selector: MetaLabelSelector | null | undefined, path = ''): SelectorConversion {
  if (!selector) return { ok: true, selector: LabelSelector.nothing() };
  const errors = validateLabelSelector(selector, path);
  if (errors.length > 0) return { ok: false, errors };
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: '=',
    values: [value],
  }));
  for (const expr of selector.matchExpressions ?? []) {
    requirements.push({ key: expr.key, operator: META_OPERATORS[expr.operator]!, values: [...(expr.values ?? [])] });
  }
  return { ok: true, selector: LabelSelector.of(requirements) };
}

function convertOrThrow(selector: MetaLabelSelector | null | undefined): LabelSelector {
  const converted = selectorFromLabelSelector(selector);
  if (!converted.ok) throw badRequest(`invalid label selector: ${aggregate(converted.errors)}`);
  return converted.selector;
}

/**
 * The canonical string of a meta/v1 LabelSelector, as autoscaling/v1 Scale.status.selector holds it
 * ('' for `{}` and for null). Throws a 400 BadRequest StatusError if the selector is invalid.
 */
export function labelSelectorAsString(selector: MetaLabelSelector | null | undefined): string {
  return convertOrThrow(selector).toString();
}

/**
 * What a server-side Table shows in a SELECTOR column (metav1.FormatLabelSelector): the canonical
 * string, `<none>` when it is empty, `<error>` when it is invalid.
 */
export function formatLabelSelector(selector: MetaLabelSelector | null | undefined): string {
  const converted = selectorFromLabelSelector(selector);
  if (!converted.ok) return '<error>';
  return converted.selector.toString() || '<none>';
}

/** A label map as `a=b,c=d` sorted by key, or `<none>` (labels.FormatLabels; a Service's SELECTOR column). */
export function formatLabels(labels: Labels | null | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}
