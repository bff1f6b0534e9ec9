// The horizontalpodautoscalers table: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE, as
// Kubernetes 1.32 prints it (TARGETS like `cpu: 45%/50%`, `memory: <unknown>/100Mi`, at most two
// metrics then `+ N more...`). autoscaling/v1 objects are printed through their v2 form.

import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricValueStatus } from 'kubernetes-types/autoscaling/v2.js';
import { tryParseQuantity } from '../../../api/quantity.js';
import type { KubeObject } from '../../../api/objects.js';
import { asHpaV2 } from '../registry/hpa-conversion.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

const MAX_SHOWN_METRICS = 2;
const UNKNOWN = '<unknown>';

/** A Quantity as Go's String() prints it: canonical form. */
function quantity(value: unknown): string {
  if (value === undefined || value === null) return '0';
  return tryParseQuantity(value as string)?.toString() ?? String(value);
}

function percent(value: number | undefined): string {
  return value === undefined || value === null ? UNKNOWN : `${value}%`;
}

/** The current/target text of a value or per-pod target (Object and External metrics). */
function valueOrAverage(target: { value?: string; averageValue?: string } | undefined, current: MetricValueStatus | undefined): string {
  if (target?.averageValue !== undefined) {
    return `${current?.averageValue !== undefined ? quantity(current.averageValue) : UNKNOWN}/${quantity(target.averageValue)} (avg)`;
  }
  return `${current ? quantity(current.value) : UNKNOWN}/${quantity(target?.value)}`;
}

/** Resource and ContainerResource: `cpu: 45%/50%` or `memory: 10Mi/100Mi`. */
function resourceText(name: string, target: { averageValue?: string; averageUtilization?: number } | undefined, current: MetricValueStatus | undefined): string {
  if (target?.averageValue !== undefined) return `${name}: ${current ? quantity(current.averageValue) : UNKNOWN}/${quantity(target.averageValue)}`;
  const goal = target?.averageUtilization === undefined ? '<auto>' : `${target.averageUtilization}%`;
  return `${name}: ${percent(current?.averageUtilization)}/${goal}`;
}

function metricText(spec: MetricSpec, status: MetricStatus | undefined): string {
  switch (spec.type) {
    case 'External':
      return valueOrAverage(spec.external?.target, status?.external?.current);
    case 'Pods':
      return `${status?.pods ? quantity(status.pods.current.averageValue) : UNKNOWN}/${quantity(spec.pods?.target.averageValue)}`;
    case 'Object':
      return valueOrAverage(spec.object?.target, status?.object?.current);
    case 'Resource':
      return resourceText(spec.resource?.name ?? '', spec.resource?.target, status?.resource?.current);
    case 'ContainerResource':
      return resourceText(spec.containerResource?.name ?? '', spec.containerResource?.target, status?.containerResource?.current);
    default:
      return '<unknown type>';
  }
}

/** The TARGETS cell; status entries are matched to specs by position, as Kubernetes does. */
export function formatHpaMetrics(specs: readonly MetricSpec[] | undefined, statuses: readonly MetricStatus[] | undefined): string {
  if (!specs || specs.length === 0) return '<none>';
  const list = specs.map((spec, i) => metricText(spec, statuses?.[i]));
  if (list.length <= MAX_SHOWN_METRICS) return list.join(', ');
  return `${list.slice(0, MAX_SHOWN_METRICS).join(', ')} + ${list.length - MAX_SHOWN_METRICS} more...`;
}

const v2Printer = printer<HorizontalPodAutoscaler>(
  [
    NAME_COLUMN,
    column('Reference', 'string', 'The target resource to scale: its kind and name.'),
    column('Targets', 'string', 'The metrics used to compute the desired replica count: current/target.'),
    column('MinPods', 'string', 'The lower limit for the number of replicas.'),
    column('MaxPods', 'integer', 'The upper limit for the number of replicas.'),
    column('Replicas', 'integer', 'The current number of pods managed by this autoscaler.'),
    AGE_COLUMN,
  ],
  (hpa, now) => {
    const spec = hpa.spec;
    return [
      hpa.metadata?.name ?? '',
      `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`,
      formatHpaMetrics(spec?.metrics, hpa.status?.currentMetrics),
      spec?.minReplicas === undefined || spec.minReplicas === null ? '<unset>' : String(spec.minReplicas),
      spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      timeSince(hpa.metadata?.creationTimestamp, now),
    ];
  },
);

export const horizontalPodAutoscalerPrinter = { ...v2Printer, cells: (obj: KubeObject, now: Date) => v2Printer.cells(asHpaV2(obj), now) };
