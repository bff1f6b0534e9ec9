// The agent's seams towards its server-facing parts (the HTTPS endpoint that serves
// `kubectl logs` and `kubectl top`, and the Prometheus endpoint). The pod runtime implements
// these; the endpoint only consumes them, so either side can change without the other.
import type { Registry } from 'prom-client';

/** Options of a container log request, as `pods/log` carries them (PodLogOptions). */
export interface ContainerLogOptions {
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339 time; logs at or after it. */
  sinceTime?: string;
  timestamps?: boolean;
  /** The previous (terminated) instance of the container, as `kubectl logs --previous`. */
  previous?: boolean;
  limitBytes?: number;
}

/**
 * Logs of a container of a pod bound to this node. The stream is stdout and stderr
 * demultiplexed and interleaved as Docker stored them. Rejects with a StatusError
 * (api/errors.ts: notFound / badRequest) when the pod or container is unknown or has not
 * started yet. Aborting the signal ends the stream (and a follow).
 */
export interface ContainerLogSource {
  logs(
    namespace: string,
    pod: string,
    container: string,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<NodeJS.ReadableStream>;
}

/** Current resource use of one container, as metrics.k8s.io reports it. */
export interface ContainerUsage {
  name: string;
  /** CPU use in nanocores (1e9 = one core), averaged over the last sampling window. */
  cpuNanoCores: number;
  /** Memory working set (usage minus inactive file pages), as the kubelet reports it. */
  memoryWorkingSetBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: ContainerUsage[];
}

/** Resource use of the running pods bound to this node. */
export interface ResourceUsageSource {
  podUsage(): Promise<PodUsage[]>;
}

/**
 * The metrics hook: the agent registers and updates its metrics (skiff_agent_*) in this
 * registry; the metrics endpoint serves it.
 */
export interface AgentMetricsHook {
  registry: Registry;
}
