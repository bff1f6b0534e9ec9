// PodTopologySpread: `spec.topologySpreadConstraints`, in the manner of kube-scheduler's plugin.
// For each constraint, the nodes that carry its topologyKey (and, by default, that the pod's
// node selector/affinity accepts: nodeAffinityPolicy Honor; taints are ignored: nodeTaintsPolicy
// Ignore) form domains; the pods matching its labelSelector (in the pod's namespace, plus the
// pod's own values of matchLabelKeys) are counted per domain. Placing the pod in a domain may
// not make that domain exceed the least-populated one by more than maxSkew (with fewer than
// minDomains domains, the least-populated count is taken as 0).
// - whenUnsatisfiable DoNotSchedule: a filter.
// - whenUnsatisfiable ScheduleAnyway: a score (fewer matching pods in the node's domain is better).

import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { LabelSelector, labelRequirement, selectorFromLabelSelector } from '../../../api/labels.js';
import type { ClusterView, FilterPlugin, ScorePlugin } from '../framework.js';
import { FITS, MAX_NODE_SCORE } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { podMatchesNode } from './node-affinity.js';

export const REASON_TOPOLOGY_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_TOPOLOGY_SPREAD_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

interface CompiledConstraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  selector: LabelSelector;
  /** Whether the incoming pod itself matches the selector (it then counts in its own domain). */
  selfMatch: boolean;
  /** Matching pods per domain value, over the eligible nodes. */
  counts: Map<string, number>;
  minCount: number;
}

function compile(constraint: TopologySpreadConstraint, pod: PodInfo, cluster: ClusterView): CompiledConstraint {
  const converted = selectorFromLabelSelector(constraint.labelSelector);
  let selector = converted.ok ? converted.selector : LabelSelector.nothing();
  // matchLabelKeys: the pod's own values of those labels narrow the selector (e.g. pod-template-hash).
  const extra = (constraint.matchLabelKeys ?? []).filter((key) => pod.labels[key] !== undefined).map((key) => labelRequirement(key, '=', [pod.labels[key]!]));
  if (extra.length > 0 && !selector.selectsNothing) selector = selector.and(...extra);
  const honourAffinity = (constraint.nodeAffinityPolicy ?? 'Honor') === 'Honor';
  const counts = new Map<string, number>();
  for (const node of cluster.nodeList) {
    const domain = node.labels[constraint.topologyKey];
    if (domain === undefined) continue;
    if (honourAffinity && !podMatchesNode(pod.pod, node)) continue;
    let count = counts.get(domain) ?? 0;
    for (const other of node.pods.values()) {
      if (other.namespace === pod.namespace && other.key !== pod.key && selector.matches(other.labels)) count++;
    }
    counts.set(domain, count);
  }
  const minDomains = constraint.minDomains ?? 1;
  let minCount = counts.size < minDomains ? 0 : Infinity;
  for (const count of counts.values()) minCount = Math.min(minCount, count);
  if (minCount === Infinity) minCount = 0;
  return {
    maxSkew: constraint.maxSkew,
    topologyKey: constraint.topologyKey,
    minDomains,
    selector,
    selfMatch: selector.matches(pod.labels),
    counts,
    minCount,
  };
}

function constraintsOf(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): TopologySpreadConstraint[] {
  return (pod.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when);
}

export const podTopologySpread: FilterPlugin = {
  name: 'PodTopologySpread',
  forPod(pod, cluster) {
    const constraints = constraintsOf(pod, 'DoNotSchedule').map((c) => compile(c, pod, cluster));
    if (constraints.length === 0) return undefined;
    return (node: NodeInfo) => {
      for (const c of constraints) {
        const domain = node.labels[c.topologyKey];
        if (domain === undefined) return [REASON_TOPOLOGY_SPREAD_MISSING_LABEL];
        const skew = (c.counts.get(domain) ?? 0) + (c.selfMatch ? 1 : 0) - c.minCount;
        if (skew > c.maxSkew) return [REASON_TOPOLOGY_SPREAD];
      }
      return FITS;
    };
  },
};

export const podTopologySpreadScore: ScorePlugin = {
  name: 'PodTopologySpread',
  weight: 2,
  forPod(pod, cluster) {
    const constraints = constraintsOf(pod, 'ScheduleAnyway').map((c) => compile(c, pod, cluster));
    if (constraints.length === 0) return undefined;
    return {
      // Raw score: matching pods in the node's domains, weighted like kube-scheduler by the
      // number of domains (a constraint over few domains matters more).
      score(node) {
        let total = 0;
        for (const c of constraints) {
          const domain = node.labels[c.topologyKey];
          if (domain === undefined) return Number.MAX_SAFE_INTEGER;
          total += ((c.counts.get(domain) ?? 0) + c.maxSkew - 1) * Math.log(c.counts.size + 2);
        }
        return total;
      },
      normalize(scores) {
        const finite = scores.filter((s) => s !== Number.MAX_SAFE_INTEGER);
        const max = Math.max(0, ...finite);
        const min = Math.min(max, ...finite);
        for (let i = 0; i < scores.length; i++) {
          const s = scores[i]!;
          scores[i] = s === Number.MAX_SAFE_INTEGER ? 0 : max === min ? MAX_NODE_SCORE : Math.round((MAX_NODE_SCORE * (max - s)) / (max - min));
        }
      },
    };
  },
};
