// Server-side Tables (meta.k8s.io/v1 Table): what `kubectl get` prints. kubectl asks for a Table
// in its Accept header and prints the cells as they come; without a printer here it could only
// show NAME and AGE. Every resource gets the columns Kubernetes' own printers give it
// (pkg/printers/internalversion); a resource without one gets the default Name/Created At table.

import type { KubeObject, ListMeta, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from '../../../api/objects.js';
import { apiVersionOf, type ResourceType } from '../../../api/resources.js';
import { controllerRevisionPrinter, daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './apps.js';
import { horizontalPodAutoscalerPrinter } from './autoscaling.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { configMapPrinter, endpointsPrinter, namespacePrinter, resourceQuotaPrinter, secretPrinter, serviceAccountPrinter } from './core.js';
import { leasePrinter } from './coordination.js';
import { podDisruptionBudgetPrinter } from './policy.js';
import { defaultPrinter } from './defaultTable.js';
import { endpointSlicePrinter } from './discovery.js';
import { coreEventPrinter, eventsEventPrinter } from './events.js';
import { nodePrinter } from './nodes.js';
import type { Printer } from './printer.js';
import { podPrinter } from './pods.js';
import { servicePrinter } from './services.js';

export { humanDuration } from './duration.js';
export type { Printer } from './printer.js';

/** What each row carries in `object` (the `includeObject` query parameter). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** Default `Metadata`: a PartialObjectMetadata, enough for `-A`, `--show-labels` and `-L`. */
  includeObject?: IncludeObject;
  /** The moment ages are measured from. Default: now. */
  now?: Date;
  /** The list's resourceVersion / continue / remainingItemCount; for a single object, its resourceVersion. */
  listMeta?: ListMeta;
  /**
   * Leave out the column definitions. A watch with the Table Accept sends them with the first
   * event only, as Kubernetes does; kubectl reuses the last ones it saw.
   */
  noHeaders?: boolean;
}

/** Printers by `group/plural`; the printed columns do not depend on the version. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map([
  ['/namespaces', namespacePrinter],
  ['/nodes', nodePrinter],
  ['/pods', podPrinter],
  ['/services', servicePrinter],
  ['/endpoints', endpointsPrinter],
  ['/configmaps', configMapPrinter],
  ['/secrets', secretPrinter],
  ['/events', coreEventPrinter],
  ['/serviceaccounts', serviceAccountPrinter],
  ['/resourcequotas', resourceQuotaPrinter],
  ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
  ['coordination.k8s.io/leases', leasePrinter],
  ['apps/deployments', deploymentPrinter],
  ['apps/replicasets', replicaSetPrinter],
  ['apps/daemonsets', daemonSetPrinter],
  ['apps/statefulsets', statefulSetPrinter],
  ['apps/controllerrevisions', controllerRevisionPrinter],
  ['batch/jobs', jobPrinter],
  ['batch/cronjobs', cronJobPrinter],
  ['autoscaling/horizontalpodautoscalers', horizontalPodAutoscalerPrinter],
  ['policy/poddisruptionbudgets', podDisruptionBudgetPrinter],
  ['events.k8s.io/events', eventsEventPrinter],
]);

/**
 * Resources that deliberately print the default table (Kubernetes has no printer for them
 * either). A served resource that is in neither list is a missing printer, and a test says so.
 */
// LimitRanges: Kubernetes registers no printer for them (kubectl shows NAME and CREATED AT).
export const DEFAULT_TABLE_RESOURCES: ReadonlySet<string> = new Set<string>(['/limitranges']);

export function printerKey(resource: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${resource.group}/${resource.plural}`;
}

/** The resource's own printer, or undefined when it prints the default table. */
export function customPrinter(resource: Pick<ResourceType, 'group' | 'plural'>): Printer | undefined {
  return PRINTERS.get(printerKey(resource));
}

function printerFor(resource: ResourceType): Printer {
  return customPrinter(resource) ?? defaultPrinter;
}

/** The resource's columns, wide ones (priority 1) included. */
export function columnDefinitions(resource: ResourceType): TableColumnDefinition[] {
  return printerFor(resource).columns.map((c) => ({ ...c }));
}

/** A Table with one row per object, in the order given. */
export function toTable(resource: ResourceType, objects: readonly KubeObject[], options: TableOptions = {}): Table {
  const printer = printerFor(resource);
  const now = options.now ?? new Date();
  const includeObject = options.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(options.listMeta ?? {}) },
    columnDefinitions: options.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows: objects.map((obj) => tableRow(resource, printer, obj, now, includeObject)),
  };
}

function tableRow(resource: ResourceType, printer: Printer, obj: KubeObject, now: Date, includeObject: IncludeObject): TableRow {
  const row: TableRow = { cells: printer.cells(obj, now) };
  const conditions = printer.conditions?.(obj);
  if (conditions) row.conditions = conditions;
  const embedded = embeddedObject(resource, obj, includeObject);
  if (embedded) row.object = embedded;
  return row;
}

function embeddedObject(resource: ResourceType, obj: KubeObject, includeObject: IncludeObject): KubeObject | undefined {
  switch (includeObject) {
    case 'None':
      return undefined;
    case 'Object':
      // Stored objects carry their type; make sure clients that decode the row can tell it.
      return obj.apiVersion && obj.kind ? obj : { ...obj, apiVersion: apiVersionOf(resource), kind: resource.kind };
    case 'Metadata':
      // Kubernetes copies the whole ObjectMeta (managedFields included) into the row.
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} } satisfies PartialObjectMetadata;
  }
}
