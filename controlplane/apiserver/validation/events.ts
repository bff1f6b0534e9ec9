// Events, in both API versions (core validation ValidateEventCreate / ValidateEventUpdate).
// events.k8s.io/v1 is validated strictly; core/v1 only by the legacy rules, for old clients.
// Kubernetes validates both in the internal (core) form, so errors name core fields
// (`involvedObject`, `message`) even for events.k8s.io requests; Skiff does the same.

import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../../api/names.js';
import type { KubeObject } from '../../../api/objects.js';
import { FieldPath } from './field-path.js';
import { isRecord, jsonEqual, text } from './json-shapes.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** The internal view of an Event, whichever API version it came in. */
interface CoreEvent {
  namespace: string;
  involvedObject: Record<string, unknown>;
  message: string;
  reason: string;
  action: string;
  type: string;
  eventTime: unknown;
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  count: unknown;
  source: Record<string, unknown>;
  series: unknown;
  related: unknown;
  reportingController: string;
  reportingInstance: string;
}

function pick(obj: KubeObject, ...names: string[]): unknown {
  for (const n of names) if (obj[n] !== undefined && obj[n] !== null) return obj[n];
  return undefined;
}

/** Reads either field name: events.k8s.io/v1 (`regarding`, `note`, ...) or core/v1. */
export function coreEventView(obj: KubeObject): CoreEvent {
  const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
  return {
    namespace: text(metaOf(obj).namespace),
    involvedObject: record(pick(obj, 'regarding', 'involvedObject')),
    message: text(pick(obj, 'note', 'message')),
    reason: text(obj['reason']),
    action: text(obj['action']),
    type: text(obj['type']),
    eventTime: pick(obj, 'eventTime'),
    firstTimestamp: pick(obj, 'deprecatedFirstTimestamp', 'firstTimestamp'),
    lastTimestamp: pick(obj, 'deprecatedLastTimestamp', 'lastTimestamp'),
    count: pick(obj, 'deprecatedCount', 'count'),
    source: record(pick(obj, 'deprecatedSource', 'source')),
    series: pick(obj, 'series'),
    related: pick(obj, 'related'),
    reportingController: text(pick(obj, 'reportingController', 'reportingComponent')),
    reportingInstance: text(obj['reportingInstance']),
  };
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && v !== 0;

function legacyValidateEvent(ev: CoreEvent): FieldError[] {
  const errs: FieldError[] = [];
  const involvedNs = text(ev.involvedObject['namespace']);
  const nsPath = 'involvedObject.namespace';
  if (!isSet(ev.eventTime)) {
    // Old-style events: the event lives in its object's namespace ("default" for cluster objects).
    if (!involvedNs) {
      if (ev.namespace !== '' && ev.namespace !== 'default') errs.push(fieldError.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    } else if (ev.namespace !== involvedNs) {
      errs.push(fieldError.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ev.namespace !== 'default' && ev.namespace !== 'kube-system') {
      errs.push(fieldError.invalid(nsPath, involvedNs, 'does not match event.namespace'));
    }
    if (!ev.reportingController) errs.push(fieldError.required('reportingController'));
    errs.push(...isQualifiedName(ev.reportingController).map((msg) => fieldError.invalid('reportingController', ev.reportingController, msg)));
    if (!ev.reportingInstance) errs.push(fieldError.required('reportingInstance'));
    if (ev.reportingInstance.length > REPORTING_INSTANCE_LIMIT) {
      errs.push(fieldError.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    }
    if (!ev.action) errs.push(fieldError.required('action'));
    if (ev.action.length > ACTION_LIMIT) errs.push(fieldError.invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
    if (!ev.reason) errs.push(fieldError.required('reason'));
    if (ev.reason.length > REASON_LIMIT) errs.push(fieldError.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if (ev.message.length > NOTE_LIMIT) errs.push(fieldError.invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  errs.push(...isDNS1123Subdomain(ev.namespace).map((msg) => fieldError.invalid('namespace', ev.namespace, msg)));
  return errs;
}

function validateSeries(ev: CoreEvent): FieldError[] {
  if (!isRecord(ev.series)) return [];
  const errs: FieldError[] = [];
  const count = typeof ev.series['count'] === 'number' ? ev.series['count'] : 0;
  if (count < 2) errs.push(fieldError.invalid('series.count', '', 'should be at least 2'));
  if (!isSet(ev.series['lastObservedTime'])) errs.push(fieldError.required('series.lastObservedTime'));
  return errs;
}

export function validateEventCreate(obj: KubeObject, strict: boolean): FieldError[] {
  const ev = coreEventView(obj);
  const errs = legacyValidateEvent(ev);
  if (!strict) return errs;
  errs.push(...validateObjectMeta(metaOf(obj), { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true }));
  errs.push(...validateSeries(ev));
  if (!isSet(ev.eventTime)) errs.push(fieldError.required('eventTime'));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(fieldError.invalid('type', '', `has invalid value: ${ev.type}`));
  if (isSet(ev.firstTimestamp)) errs.push(fieldError.invalid('firstTimestamp', '', 'needs to be unset'));
  if (isSet(ev.lastTimestamp)) errs.push(fieldError.invalid('lastTimestamp', '', 'needs to be unset'));
  if (isSet(ev.count)) errs.push(fieldError.invalid('count', '', 'needs to be unset'));
  if (text(ev.source['component']) || text(ev.source['host'])) errs.push(fieldError.invalid('source', '', 'needs to be unset'));
  return errs;
}

export function validateEventUpdate(obj: KubeObject, old: KubeObject, strict: boolean): FieldError[] {
  const ev = coreEventView(obj);
  const before = coreEventView(old);
  const errs = legacyValidateEvent(ev);
  if (!strict) return errs;
  errs.push(...validateObjectMetaUpdate(metaOf(obj), metaOf(old), { kubeFinalizers: true }));
  if (!jsonEqual(ev.series, before.series)) errs.push(...validateSeries(ev));
  // Only the series of a strict (events.k8s.io) Event may change after it is recorded.
  const fixed: (keyof CoreEvent)[] = [
    'involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'action', 'related',
    'reportingController', 'reportingInstance',
  ];
  for (const field of fixed) {
    if (!jsonEqual(ev[field], before[field])) errs.push(fieldError.immutable(FieldPath.of(field).toString(), ev[field] ?? null));
  }
  return errs;
}
