// The agent's seams towards its server-facing parts (the HTTPS endpoint that serves
// `kubectl logs`, `exec`, `attach` and `top`, and the Prometheus endpoint). The pod runtime implements
// these; the endpoint only consumes them, so either side can change without the other.
import type { Duplex } from 'node:stream';
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

/** Which of a process's streams a session connects (PodExecOptions / PodAttachOptions). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** A terminal: stdout and stderr arrive as one unframed stream, and it can be resized. */
  tty: boolean;
}

/** The connection to a process's standard streams (Docker's hijacked exec or attach). */
export type ProcessStreams = NodeJS.ReadWriteStream & { destroy(): void };

/**
 * An exec or attach that has passed every check and is ready to connect: errors that the caller
 * should hear as an HTTP status (unknown pod or container, a container that is not running) are
 * raised before one of these exists.
 */
export interface StreamSession {
  /** True when stdout and stderr come framed (Docker's multiplexed stream: no TTY). */
  readonly framed: boolean;
  /** Connects the streams. */
  start(): Promise<ProcessStreams>;
  resize(width: number, height: number): Promise<void>;
  /** After the streams ended: the exec'd command's exit code (undefined for attach, or unknown). */
  exitCode(): Promise<number | undefined>;
}

/** Connections to a pod's ports (`kubectl port-forward`), once the pod was found. */
export interface PodPorts {
  /** Connects to `port` in the pod's network; rejects with the reason when nothing answers. */
  connect(port: number): Promise<Duplex>;
  /** Lets go of what connecting needs (the session ended); connections made stay open. */
  close?(): void;
}

/**
 * `kubectl exec`, `kubectl attach` and `kubectl port-forward` for a pod bound to this node.
 * Rejects with a StatusError when the pod or container is unknown or not running.
 */
export interface ContainerStreamSource {
  exec(namespace: string, pod: string, container: string, command: string[], options: StreamOptions): Promise<StreamSession>;
  attach(namespace: string, pod: string, container: string, options: StreamOptions): Promise<StreamSession>;
  portForward(namespace: string, pod: string): Promise<PodPorts>;
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
