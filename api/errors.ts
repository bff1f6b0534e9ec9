// Kubernetes `Status` errors as values. Every failure that crosses the API boundary is a
// StatusError whose `toStatus()` is the body a real kube-apiserver would send, so that kubectl
// and client libraries print and branch on it exactly as they do against Kubernetes
// (apimachinery pkg/api/errors).

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

export interface StatusCause {
  /** The cause's type (Go's CauseType, which JSON names `reason`): FieldValueInvalid, DisruptionBudget... */
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export function isStatus(value: unknown): value is Status {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = `StatusError(${reason})`;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }

  /** Rebuilds the error a server sent, so that clients can branch on `reason`. */
  static fromStatus(status: Status): StatusError {
    return new StatusError(status.code, status.reason ?? 'InternalError', status.message ?? '', status.details);
  }
}

/** The group and plural resource an error is about, e.g. {group:'apps', resource:'deployments'}. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `deployments.apps` or `pods`: how Kubernetes names a resource in messages. */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export const STALE_OBJECT_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string = STALE_OBJECT_MESSAGE): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const target = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return new StatusError(403, 'Forbidden', `${target} is forbidden: ${why}`, { name, group: gr.group, kind: gr.resource });
}

/** 410 Expired: a resourceVersion or continue token older than the history the server keeps. */
export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(message: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', message);
}

export function requestEntityTooLarge(message: string): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', message);
}

export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function internalError(err: unknown): StatusError {
  const why = err instanceof Error ? err.message : String(err);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${why}`, { causes: [{ message: why }] });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

export function timeout(message: string): StatusError {
  return new StatusError(504, 'Timeout', message);
}

// ---------------------------------------------------------------------------------------------
// Field errors: the causes of a 422 Invalid (apimachinery pkg/util/validation/field).

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** The JSON path of the field, as Kubernetes prints it: `spec.containers[0].ports[1].containerPort`. */
  field: string;
  badValue?: unknown;
  detail?: string;
}

/** Formats a bad value the way Go's `%#v` does for the common cases, so messages read like Kubernetes'. */
function formatBadValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}:${formatBadValue(v)}`)
      .join(', ');
    return `map[string]string{${entries}}`;
  }
  // A list of strings as Go's %#v prints a []string; other lists (rare in messages) as JSON.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  return JSON.stringify(value);
}

/** The part of a field error's message after the field path, e.g. `Required value`. */
export function fieldErrorBody(err: FieldError): string {
  const detail = err.detail ? `: ${err.detail}` : '';
  switch (err.type) {
    case 'FieldValueRequired':
      return `Required value${detail}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${formatBadValue(err.badValue)}${detail}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${formatBadValue(err.badValue)}${detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${formatBadValue(err.badValue)}${detail}`;
    case 'FieldValueForbidden':
      return `Forbidden${detail}`;
    case 'FieldValueTooLong':
      return `Too long${detail}`;
    case 'FieldValueTooMany':
      return err.badValue === undefined ? `Too many${detail}` : `Too many: ${formatBadValue(err.badValue)}${detail}`;
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${formatBadValue(err.badValue)}${detail}`;
    case 'FieldValueNotFound':
      return `Not found: ${formatBadValue(err.badValue)}${detail}`;
  }
}

export function fieldErrorMessage(err: FieldError): string {
  return `${err.field}: ${fieldErrorBody(err)}`;
}

/** Shorthands in the style of `field.Required(path, detail)`. */
export const fieldError = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, badValue: unknown, detail?: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    badValue,
    detail,
  }),
  notSupported: (field: string, badValue: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    badValue,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  duplicate: (field: string, badValue: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, badValue }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    detail: `may not be more than ${max} bytes`,
  }),
  /** `actual` items where at most `max` may be (field.TooMany: "Too many: 21: must have at most 20 items"). */
  tooMany: (field: string, max: number, actual?: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    ...(actual === undefined ? {} : { badValue: actual }),
    detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
  }),
  typeInvalid: (field: string, badValue: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    badValue,
    detail,
  }),
  immutable: (field: string, badValue: unknown): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    badValue,
    detail: 'field is immutable',
  }),
};

/** 422 Invalid with every field error in `details.causes` (apimachinery `NewInvalid`). */
export function invalid(kind: { group: string; kind: string }, name: string, errs: readonly FieldError[]): StatusError {
  const qualifiedKind = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const messages = errs.map(fieldErrorMessage);
  const aggregate = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, {
    name,
    group: kind.group,
    kind: kind.kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}
