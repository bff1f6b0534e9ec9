// The agent's own Prometheus metrics (skiff_agent_*), registered in the registry that the
// metrics endpoint serves. Point-in-time gauges are computed on scrape (collect), not on a timer.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface RunningCounts {
  pods: number;
  containers: number;
}

export class AgentMetrics {
  readonly registry: Registry;
  readonly containerRestarts: Counter<'namespace'>;
  readonly probeResults: Counter<'probe_type' | 'result'>;
  readonly probeDuration: Histogram<'probe_type'>;
  readonly podStartDuration: Histogram;
  readonly dockerOperationErrors: Counter<'operation'>;
  readonly dockerOperationDuration: Histogram<'operation'>;
  readonly podSyncErrors: Counter;
  readonly apiWriteErrors: Counter<'what'>;
  private counts: () => RunningCounts = () => ({ pods: 0, containers: 0 });

  constructor(registry?: Registry) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    const running = () => this.counts();
    new Gauge({
      name: 'skiff_agent_running_pods',
      help: 'Pods bound to this node whose sandbox is running.',
      registers,
      collect() {
        this.set(running().pods);
      },
    });
    new Gauge({
      name: 'skiff_agent_running_containers',
      help: 'Running containers of pods bound to this node (sandboxes excluded).',
      registers,
      collect() {
        this.set(running().containers);
      },
    });
    this.containerRestarts = new Counter({
      name: 'skiff_agent_container_restarts_total',
      help: 'Containers the agent started again after an earlier instance ended (by namespace; pod names would grow the series without bound).',
      labelNames: ['namespace'] as const,
      registers,
    });
    this.probeResults = new Counter({
      name: 'skiff_agent_probe_total',
      help: 'Probe runs by probe type (liveness, readiness, startup) and result (successful, failed).',
      labelNames: ['probe_type', 'result'] as const,
      registers,
    });
    this.probeDuration = new Histogram({
      name: 'skiff_agent_probe_duration_seconds',
      help: 'Time a probe run took.',
      labelNames: ['probe_type'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.podStartDuration = new Histogram({
      name: 'skiff_agent_pod_start_duration_seconds',
      help: 'From the agent first seeing a pod to all its containers running (image pulls included).',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120],
      registers,
    });
    this.dockerOperationErrors = new Counter({
      name: 'skiff_agent_docker_operation_errors_total',
      help: 'Docker Engine API calls that failed, by operation.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.dockerOperationDuration = new Histogram({
      name: 'skiff_agent_docker_operation_duration_seconds',
      help: 'Duration of Docker Engine API calls, by operation.',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.podSyncErrors = new Counter({
      name: 'skiff_agent_pod_sync_errors_total',
      help: 'Pod syncs that failed and were retried.',
      registers,
    });
    this.apiWriteErrors = new Counter({
      name: 'skiff_agent_api_write_errors_total',
      help: 'Writes to the API server that failed (they are retried), by what was written.',
      labelNames: ['what'] as const,
      registers,
    });
  }

  /** Where the running-pods and running-containers gauges read their values on scrape. */
  countRunning(counts: () => RunningCounts): void {
    this.counts = counts;
  }
}
