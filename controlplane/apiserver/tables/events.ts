// The events table, for core/v1 Events and events.k8s.io/v1 Events alike: LAST SEEN TYPE REASON
// OBJECT MESSAGE, and for `-o wide` SUBOBJECT SOURCE FIRST SEEN COUNT NAME. Kubernetes serves both
// groups from one storage and one printer; an events.k8s.io Event is read through the field
// mapping of its conversion (regarding → involvedObject, note → message, deprecated* → the old
// fields).

import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import { parseTimestamp, timeSince } from './duration.js';
import { column, NAME_COLUMN, printer } from './printer.js';

const columns = [
  column('Last Seen', 'string', 'Time since the event was last observed.'),
  column('Type', 'string', 'Normal or Warning.'),
  column('Reason', 'string', 'Short, machine-readable reason for the event.'),
  column('Object', 'string', 'The object the event is about, as kind/name.'),
  column('Subobject', 'string', 'The part of the object, such as a container, the event is about.', { priority: 1 }),
  column('Source', 'string', 'The component (and host) that reported the event.', { priority: 1 }),
  column('Message', 'string', 'Human-readable description of the event.'),
  column('First Seen', 'string', 'Time since the event was first observed.', { priority: 1 }),
  column('Count', 'string', 'How many times the event has occurred.', { priority: 1 }),
  { ...NAME_COLUMN, priority: 1 },
];

export const coreEventPrinter = printer<CoreEvent>(columns, eventCells);
export const eventsEventPrinter = printer<EventsEvent>(columns, (event, now) => eventCells(asCoreEvent(event), now));

function eventCells(event: CoreEvent, now: Date): unknown[] {
  // Events written through the new API carry eventTime instead of firstTimestamp.
  const firstSeen = timeSince(isSet(event.firstTimestamp) ? event.firstTimestamp : event.eventTime, now);
  let lastSeen = isSet(event.lastTimestamp) ? timeSince(event.lastTimestamp, now) : firstSeen;
  let count = event.count ?? 0;
  if (event.series) {
    lastSeen = timeSince(event.series.lastObservedTime, now);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    // A singleton event from the new API has no count: it happened once.
    count = 1;
  }
  const involved = event.involvedObject;
  const kind = (involved?.kind ?? '').toLowerCase();
  const target = involved?.name ? `${kind}/${involved.name}` : kind;
  return [
    lastSeen,
    event.type ?? '',
    event.reason ?? '',
    target,
    involved?.fieldPath ?? '',
    eventSource(event),
    (event.message ?? '').trim(),
    firstSeen,
    count,
    event.metadata?.name ?? '',
  ];
}

function isSet(timestamp: string | undefined): boolean {
  return parseTimestamp(timestamp) !== undefined;
}

/** `kubelet, node-1`: the source component and host, or the reporting controller and instance. */
function eventSource(event: CoreEvent): string {
  const component = event.source?.component || event.reportingComponent || '';
  const instance = event.source?.host || event.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

/** The core/v1 view of an events.k8s.io/v1 Event (Kubernetes' conversion between the two). */
function asCoreEvent(event: EventsEvent): CoreEvent {
  return {
    metadata: event.metadata ?? {},
    involvedObject: event.regarding ?? {},
    ...(event.related ? { related: event.related } : {}),
    ...(event.note !== undefined ? { message: event.note } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    ...(event.type !== undefined ? { type: event.type } : {}),
    ...(event.action !== undefined ? { action: event.action } : {}),
    ...(event.deprecatedSource ? { source: event.deprecatedSource } : {}),
    ...(event.deprecatedFirstTimestamp ? { firstTimestamp: event.deprecatedFirstTimestamp } : {}),
    ...(event.deprecatedLastTimestamp ? { lastTimestamp: event.deprecatedLastTimestamp } : {}),
    ...(event.deprecatedCount !== undefined ? { count: event.deprecatedCount } : {}),
    ...(event.eventTime ? { eventTime: event.eventTime } : {}),
    ...(event.series ? { series: { count: event.series.count, lastObservedTime: event.series.lastObservedTime } } : {}),
    ...(event.reportingController !== undefined ? { reportingComponent: event.reportingController } : {}),
    ...(event.reportingInstance !== undefined ? { reportingInstance: event.reportingInstance } : {}),
  };
}
