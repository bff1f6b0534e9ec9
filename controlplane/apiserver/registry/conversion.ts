// Resources served in a second version over one storage convert at the API boundary, as in
// Kubernetes: autoscaling/v1 HorizontalPodAutoscalers (stored as v2, hpa-conversion.ts) and
// events.k8s.io/v1 Events (stored as core/v1 Events). For Events the field correspondence
// follows k8s.io/api events/v1 (`regarding` ↔ `involvedObject`, `note` ↔ `message`,
// `deprecated*` ↔ the legacy source/first/last/count fields).

import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';
import { hpaV1 } from './hpa-conversion.js';

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
  if (r.group === 'autoscaling' && r.version === 'v1' && r.plural === 'horizontalpodautoscalers') return hpaV1;
  return r.group === 'events.k8s.io' && r.plural === 'events' ? eventsV1 : undefined;
}
