// The labels the agent puts on every container it creates. They are the agent's whole memory:
// a restarted agent lists its containers by `skiff.node` and rebuilds, from the labels alone,
// which pod and container each one is, its restart count, the spec hash it was created from and
// how to stop it (grace period, preStop hook), as the kubelet's dockershim did with its
// io.kubernetes.* labels (pkg/kubelet/kuberuntime/labels.go). Pod identity uses the same label
// names as Kubernetes so that `docker ps --filter label=io.kubernetes.pod.name=web` works.

import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';

export const LABELS = {
  /** The node (agent) that owns the container; agents sharing an engine touch only their own. */
  node: 'skiff.node',
  kind: 'skiff.kind',
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  restartCount: 'skiff.restart-count',
  specHash: 'skiff.spec-hash',
  sandboxAttempt: 'skiff.sandbox-attempt',
  sandboxId: 'skiff.sandbox-id',
  gracePeriod: 'skiff.termination-grace-period',
  preStop: 'skiff.pre-stop',
  /** App and init containers: the host file behind terminationMessagePath, and the policy. */
  terminationMessageFile: 'skiff.termination-message-file',
  terminationMessagePolicy: 'skiff.termination-message-policy',
  /** On the pod network: the pod CIDR it was made for. */
  podCidr: 'skiff.pod-cidr',
} as const;

/** The sandbox's container name, as Kubernetes names it. */
export const SANDBOX_CONTAINER_NAME = 'POD';

export type ContainerKind = 'sandbox' | 'init' | 'app';

export interface ContainerIdentity {
  node: string;
  kind: ContainerKind;
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  restartCount: number;
  specHash: string;
  /** Sandboxes: how many sandboxes this pod had before this one. */
  sandboxAttempt: number;
  /** App and init containers: the sandbox they joined. */
  sandboxId?: string;
  terminationGracePeriodSeconds: number;
  preStop?: LifecycleHandler;
  terminationMessageFile?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
}

export function identityLabels(id: ContainerIdentity, extra: Record<string, string> = {}): Record<string, string> {
  const labels: Record<string, string> = {
    ...extra,
    [LABELS.node]: id.node,
    [LABELS.kind]: id.kind,
    [LABELS.podUid]: id.podUid,
    [LABELS.podName]: id.podName,
    [LABELS.podNamespace]: id.podNamespace,
    [LABELS.containerName]: id.containerName,
    [LABELS.restartCount]: String(id.restartCount),
    [LABELS.specHash]: id.specHash,
    [LABELS.sandboxAttempt]: String(id.sandboxAttempt),
    [LABELS.gracePeriod]: String(id.terminationGracePeriodSeconds),
  };
  if (id.sandboxId) labels[LABELS.sandboxId] = id.sandboxId;
  if (id.preStop) labels[LABELS.preStop] = JSON.stringify(id.preStop);
  if (id.terminationMessageFile) labels[LABELS.terminationMessageFile] = id.terminationMessageFile;
  if (id.terminationMessagePolicy) labels[LABELS.terminationMessagePolicy] = id.terminationMessagePolicy;
  return labels;
}

function count(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** The identity a container's labels carry, or undefined when it is not an agent's container. */
export function identityFromLabels(labels: Record<string, string> | undefined): ContainerIdentity | undefined {
  if (!labels) return undefined;
  const node = labels[LABELS.node];
  const kind = labels[LABELS.kind];
  const podUid = labels[LABELS.podUid];
  if (!node || !podUid || (kind !== 'sandbox' && kind !== 'init' && kind !== 'app')) return undefined;
  let preStop: LifecycleHandler | undefined;
  const preStopText = labels[LABELS.preStop];
  if (preStopText) {
    try {
      preStop = JSON.parse(preStopText) as LifecycleHandler;
    } catch {
      preStop = undefined; // a hand-edited label: stop without the hook rather than not at all
    }
  }
  return {
    node,
    kind,
    podUid,
    podName: labels[LABELS.podName] ?? '',
    podNamespace: labels[LABELS.podNamespace] ?? '',
    containerName: labels[LABELS.containerName] ?? '',
    restartCount: count(labels[LABELS.restartCount]),
    specHash: labels[LABELS.specHash] ?? '',
    sandboxAttempt: count(labels[LABELS.sandboxAttempt]),
    sandboxId: labels[LABELS.sandboxId] || undefined,
    terminationGracePeriodSeconds: count(labels[LABELS.gracePeriod] ?? '30'),
    preStop,
    ...terminationMessageFromLabels(labels),
  };
}

function terminationMessageFromLabels(labels: Record<string, string>): Pick<ContainerIdentity, 'terminationMessageFile' | 'terminationMessagePolicy'> {
  const file = labels[LABELS.terminationMessageFile];
  if (!file) return {};
  return { terminationMessageFile: file, terminationMessagePolicy: labels[LABELS.terminationMessagePolicy] === 'FallbackToLogsOnError' ? 'FallbackToLogsOnError' : 'File' };
}

/** Docker container names in dockershim's scheme: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
export function containerName(id: Pick<ContainerIdentity, 'containerName' | 'podName' | 'podNamespace' | 'podUid'>, attempt: number): string {
  return `k8s_${id.containerName}_${id.podName}_${id.podNamespace}_${id.podUid}_${attempt}`;
}
