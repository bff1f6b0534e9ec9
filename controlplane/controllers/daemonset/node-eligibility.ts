// Which nodes a DaemonSet runs on (NodeShouldRunDaemonPod): the pod's nodeSelector and required
// node affinity must match the node, and its tolerations (plus the ones every daemon pod gets)
// must tolerate the node's NoSchedule and NoExecute taints. A pod already running on a node
// keeps running if only NoSchedule taints stand in its way.

import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Toleration } from 'kubernetes-types/core/v1.js';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import { firstUntoleratedTaint, HARD_TAINT_EFFECTS } from '../../scheduler/tolerations.js';

/**
 * The tolerations Kubernetes adds to every DaemonSet pod (AddOrUpdateDaemonPodTolerations), so
 * that daemons survive node problems and can run on cordoned nodes.
 */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t = (key: string, effect: 'NoExecute' | 'NoSchedule'): Toleration => ({ key, operator: 'Exists', effect });
  const list = [
    t('node.kubernetes.io/not-ready', 'NoExecute'),
    t('node.kubernetes.io/unreachable', 'NoExecute'),
    t('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    t('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    t('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    t('node.kubernetes.io/unschedulable', 'NoSchedule'),
  ];
  if (hostNetwork) list.push(t('node.kubernetes.io/network-unavailable', 'NoSchedule'));
  return list;
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.effect ?? '') === (b.effect ?? '') && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '');
}

/** `tolerations` with each of `added` replacing a matching one or appended (AddOrUpdateTolerationInPodSpec). */
export function withTolerations(tolerations: readonly Toleration[], added: readonly Toleration[]): Toleration[] {
  const out = [...tolerations];
  for (const t of added) {
    const i = out.findIndex((x) => sameToleration(x, t));
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

function matchesRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      const actual = BigInt(value);
      const bound = BigInt(values[0]!);
      return req.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects nothing.
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  if (!expressions.every((req) => matchesRequirement(req, Object.hasOwn(labels, req.key) ? labels[req.key] : undefined))) return false;
  // The only node field selectors support is metadata.name.
  return fields.every((req) => req.key === 'metadata.name' && matchesRequirement(req, node.metadata?.name));
}

/** nodeSelector and required node affinity both match (nodeaffinity.GetRequiredNodeAffinity(pod).Match). */
export function matchesNodeSelectorAndAffinity(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec?.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((term) => matchesTerm(term, node));
}

export interface Placement {
  /** A daemon pod should be created on this node. */
  shouldRun: boolean;
  /** A daemon pod already on this node may stay. */
  shouldContinueRunning: boolean;
}

export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): Placement {
  const spec = ds.spec?.template?.spec;
  const nodeName = node.metadata?.name ?? '';
  if (spec?.nodeName && spec.nodeName !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeSelectorAndAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = withTolerations(spec?.tolerations ?? [], daemonTolerations(spec?.hostNetwork ?? false));
  const taints = node.spec?.taints ?? [];
  const blocking = firstUntoleratedTaint(taints, tolerations, HARD_TAINT_EFFECTS);
  if (!blocking) return { shouldRun: true, shouldContinueRunning: true };
  const evicting = firstUntoleratedTaint(taints, tolerations, ['NoExecute']);
  return { shouldRun: false, shouldContinueRunning: !evicting };
}
