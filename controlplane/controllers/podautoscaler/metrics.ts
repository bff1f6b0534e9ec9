// Pod usage from the Resource Metrics API (metrics.k8s.io/v1beta1), read through the API server
// as kube-controller-manager reads it through the aggregation layer: one PodMetricsList per HPA
// and sync, selected with the target's label selector. A pod whose metrics lack the resource in
// a container is left out (it then counts as a pod without metrics).

import type { KubeClient } from '../../../api/client.js';
import { tryParseQuantity } from '../../../api/quantity.js';
import { ReplicaCalculationError } from './replicas.js';
import type { PodMetric } from './replicas.js';

interface PodMetricsItem {
  metadata?: { name?: string };
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

/** Where the pods' usage comes from; tests give a fake. */
export interface ResourceMetricsSource {
  /** Usage of `resource` per pod name (one container's when `container` is given). */
  podUsage(namespace: string, selector: string, resource: string, container?: string): Promise<Map<string, PodMetric>>;
}

/** `30s`, `1m0s`, `1.5s`, `500ms` (a Go time.Duration as metav1.Duration prints it) in ms. */
export function parseGoDuration(text: string | undefined): number {
  let ms = 0;
  for (const [, value, unit] of (text ?? '').matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) {
    const scale = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 }[unit as 'h'];
    ms += Number(value) * scale;
  }
  return ms;
}

export class MetricsApiSource implements ResourceMetricsSource {
  constructor(private readonly client: KubeClient) {}

  async podUsage(namespace: string, selector: string, resource: string, container?: string): Promise<Map<string, PodMetric>> {
    const path = `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`;
    let items: PodMetricsItem[];
    try {
      items = (await this.client.request<{ items?: PodMetricsItem[] }>('GET', path)).items ?? [];
    } catch (err) {
      throw new ReplicaCalculationError(`unable to fetch metrics from resource metrics API: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (items.length === 0) throw new ReplicaCalculationError('no metrics returned from resource metrics API');
    const usage = new Map<string, PodMetric>();
    for (const item of items) {
      const containers = (item.containers ?? []).filter((c) => !container || c.name === container);
      if (container && containers.length === 0) {
        throw new ReplicaCalculationError(`failed to get container metrics: container ${container} not present in metrics for pod ${namespace}/${item.metadata?.name ?? ''}`);
      }
      let sum = 0;
      let missing = containers.length === 0;
      for (const c of containers) {
        const q = c.usage?.[resource] === undefined ? undefined : tryParseQuantity(c.usage[resource]);
        if (!q) {
          missing = true;
          break;
        }
        sum += q.milliValue();
      }
      if (missing) continue;
      usage.set(item.metadata?.name ?? '', { milliValue: sum, timestampMs: Date.parse(item.timestamp ?? '') || 0, windowMs: parseGoDuration(item.window) });
    }
    return usage;
  }
}
