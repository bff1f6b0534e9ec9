// What a resource's table printer is: its column definitions and a function from one object to
// the cells of its row. Like Kubernetes' server-side printers, a printer always produces every
// column, the `-o wide` ones (priority 1) included; kubectl hides those unless asked for them.

import type { Container } from 'kubernetes-types/core/v1.js';
import type { KubeObject, TableColumnDefinition } from '../../../api/objects.js';

/** A row condition (`metav1.TableRowCondition`); pods that finished carry `Completed`. */
export interface RowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  /** One cell per column, in column order. */
  cells(obj: KubeObject, now: Date): unknown[];
  conditions?(obj: KubeObject): RowCondition[] | undefined;
}

/**
 * A printer for one kind. The casts are the single place where an untyped stored object is read
 * as its Kubernetes type; printers only read optional fields and tolerate their absence.
 */
export function printer<T>(
  columns: readonly TableColumnDefinition[],
  cells: (obj: T, now: Date) => unknown[],
  conditions?: (obj: T) => RowCondition[] | undefined,
): Printer {
  return {
    columns,
    cells: (obj, now) => cells(obj as T, now),
    ...(conditions ? { conditions: (obj: KubeObject) => conditions(obj as T) } : {}),
  };
}

type ColumnType = TableColumnDefinition['type'];

export function column(
  name: string,
  type: ColumnType,
  description: string,
  options: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: options.format ?? '', description, priority: options.priority ?? 0 };
}

/** The Name column: format `name` tells clients (kubectl `-o name`, `--sort-by`) it holds the object's name. */
export const NAME_COLUMN = column('Name', 'string', 'Name of the object, unique within its namespace.', { format: 'name' });
export const AGE_COLUMN = column('Age', 'string', 'Time since the object was created (metadata.creationTimestamp).');
export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of the containers in the pod template.', { priority: 1 });
export const IMAGES_COLUMN = column('Images', 'string', 'Images of the containers in the pod template.', { priority: 1 });

/** Container names and images, each joined with commas, as the wide CONTAINERS and IMAGES cells. */
export function containerCells(containers: readonly Container[] | undefined): [names: string, images: string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}
