// events.k8s.io/v1 Events and core/v1 Events are two views of the same stored objects, as in
// Kubernetes. Skiff stores the core/v1 form and converts at the API boundary; the field
// correspondence follows k8s.io/api events/v1 (`regarding` ↔ `involvedObject`, `note` ↔
// `message`, `deprecated*` ↔ the legacy source/first/last/count fields).

import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';

export interface Conversion {
  /** From the stored (internal) form to the resource's version. */
  fromStorage(obj: KubeObject): KubeObject;
  /** From the resource's version to the stored form. */
  toStorage(obj: KubeObject): KubeObject;
}

function rename(obj: KubeObject, pairs: readonly (readonly [string, string])[], kind: string, apiVersion: string): KubeObject {
  const out: KubeObject = { ...obj, apiVersion, kind };
  for (const [from, to] of pairs) {
    if (from in out) {
      if (out[from] !== undefined) out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

const CORE_TO_EVENTS: readonly (readonly [string, string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];
const EVENTS_TO_CORE = CORE_TO_EVENTS.map(([a, b]) => [b, a] as const);

const eventsV1: Conversion = {
  fromStorage: (obj) => rename(obj, CORE_TO_EVENTS, 'Event', 'events.k8s.io/v1'),
  toStorage: (obj) => rename(obj, EVENTS_TO_CORE, 'Event', 'v1'),
};

export function conversionFor(r: ResourceType): Conversion | undefined {
  return r.group === 'events.k8s.io' && r.plural === 'events' ? eventsV1 : undefined;
}
