// What `skiff agent` needs to run: the flags of the command line plus the timing knobs that
// tests shorten. Defaults follow the kubelet's (pkg/kubelet/apis/config/v1beta1/defaults.go)
// unless a comment says otherwise.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface EvictionThresholds {
  /** memory.available below this many bytes → MemoryPressure (kubelet: 100Mi). */
  memoryAvailableBytes: number;
  /** nodefs.available below this fraction → DiskPressure (kubelet: 10%). */
  nodefsAvailableRatio: number;
  /** nodefs.inodesFree below this fraction → DiskPressure (kubelet: 5%). */
  nodefsInodesFreeRatio: number;
  /** Free process IDs (pid_max minus running processes) below this fraction → PIDPressure. */
  pidAvailableRatio: number;
}

export interface BackOffConfig {
  initialMs: number;
  maxMs: number;
}

/** How the agent reaches the API server (see apiclient.ts). */
export interface ApiConnectionConfig {
  /** `https://host:port`; optional when a kubeconfig names the server. */
  server?: string;
  /** A file holding the node token, presented as a bearer token. */
  tokenFile?: string;
  /** PEM of the cluster CA to trust. */
  caFile?: string;
  /** Alternatively, a kubeconfig with server, CA and credentials. */
  kubeconfig?: string;
}

export interface AgentConfig extends ApiConnectionConfig {
  nodeName: string;
  nodeIp: string;
  dataDir: string;
  /** `unix:///var/run/docker.sock` (default) or `tcp://host:port`. */
  dockerHost?: string;
  podInfraImage: string;
  maxPods: number;
  clusterDns: string[];
  clusterDomain: string;
  /** The port of the agent's HTTPS endpoint, published as status.daemonEndpoints. */
  kubeletPort: number;

  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  /** How often node status is computed; it is written when it changed... */
  nodeStatusUpdateIntervalMs: number;
  /** ...and at least this often. */
  nodeStatusReportIntervalMs: number;
  /** Container restart back-off (CrashLoopBackOff): 10 s doubling to 5 min, reset after 2× max without a failure. */
  crashLoopBackOff: BackOffConfig;
  /** Image pull back-off (ImagePullBackOff), same shape. */
  imagePullBackOff: BackOffConfig;
  /** Full re-list of the agent's containers, besides Docker's event stream (kubelet's PLEG relists every 1 s). */
  relistIntervalMs: number;
  /** Every pod is re-synced this often even without a change (kubelet syncFrequency: 1 min). */
  podResyncIntervalMs: number;
  eviction: EvictionThresholds;
  /** Extra labels on every Docker object the agent creates (tests mark theirs). */
  dockerLabels: Record<string, string>;
  /** Where the agent registers its metrics; one is created when absent. */
  metricsRegistry?: Registry;
  logger?: Logger;
}

export const AGENT_DEFAULTS = {
  podInfraImage: 'registry.k8s.io/pause:3.10',
  maxPods: 110,
  clusterDns: ['10.43.0.10'],
  clusterDomain: 'cluster.local',
  kubeletPort: 10250,
  leaseDurationSeconds: 40,
  leaseRenewIntervalMs: 10_000,
  nodeStatusUpdateIntervalMs: 10_000,
  nodeStatusReportIntervalMs: 60_000,
  crashLoopBackOff: { initialMs: 10_000, maxMs: 300_000 },
  imagePullBackOff: { initialMs: 10_000, maxMs: 300_000 },
  relistIntervalMs: 10_000,
  podResyncIntervalMs: 60_000,
  eviction: {
    memoryAvailableBytes: 100 * 1024 * 1024,
    nodefsAvailableRatio: 0.1,
    nodefsInodesFreeRatio: 0.05,
    pidAvailableRatio: 0.1,
  },
  dockerLabels: {},
} satisfies Partial<AgentConfig>;

export type AgentOptions = Pick<AgentConfig, 'nodeName' | 'nodeIp' | 'dataDir'> & Partial<AgentConfig>;

export function agentConfig(options: AgentOptions): AgentConfig {
  // Flags that were not given arrive as `undefined`: they must not hide a default.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as AgentOptions;
  return {
    ...AGENT_DEFAULTS,
    ...given,
    eviction: { ...AGENT_DEFAULTS.eviction, ...given.eviction },
  } as AgentConfig;
}

/** The kubelet version the node reports: the Kubernetes API level Skiff follows. */
export const KUBELET_VERSION = 'v1.32.0-skiff';
