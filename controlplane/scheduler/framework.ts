// The shape of the scheduler's plugins, in the manner of kube-scheduler's framework: a filter
// says whether a node can take a pod (and if not, why, in kube-scheduler's words), a score says
// how much the pod would like the node. Each plugin first looks at the pod once per attempt
// (`forPod`, kube-scheduler's PreFilter/PreScore) and returns the per-node check, or nothing when
// it has nothing to say about this pod (no host ports, no owner...).

import type { Labels } from '../../api/labels.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

/**
 * How many nodes of `nodeList` have what some plugins look for. A plugin that could object to
 * (or prefer) no node steps aside for the pod: on a healthy cluster the filters for cordons,
 * readiness and taints then cost nothing per node (a quarter of a placement over 1,000 nodes).
 */
export interface NodeCounts {
  cordoned: number;
  /** Nodes whose Ready condition is not True. */
  notReady: number;
  /** Nodes with at least one NoSchedule or NoExecute taint. */
  noScheduleTainted: number;
  /** Nodes with at least one PreferNoSchedule taint. */
  preferNoScheduleTainted: number;
}

/** What plugins may read about the cluster besides the node they judge. */
export interface ClusterView {
  /** Nodes that exist (their Node object is known), in a stable order. */
  readonly nodeList: readonly NodeInfo[];
  readonly nodeCounts: Readonly<NodeCounts>;
  nodeInfo(name: string): NodeInfo | undefined;
  namespaceLabels(namespace: string): Labels | undefined;
  /** Bound (or assumed) pods that carry required pod anti-affinity terms. */
  podsWithRequiredAntiAffinity(): Iterable<PodInfo>;
  /** The nodes with bound or assumed pods of a controller (by its uid), and how many each. */
  ownerPodsPerNode(ownerUid: string): ReadonlyMap<NodeInfo, number>;
  /** Where a bound or assumed pod is. */
  nodeOfPod(key: string): NodeInfo | undefined;
}

/** Reasons a node cannot take the pod; empty when it can. */
export type NodeFilter = (node: NodeInfo) => readonly string[];

export interface FilterPlugin {
  readonly name: string;
  forPod(pod: PodInfo, cluster: ClusterView): NodeFilter | undefined;
}

export interface PodScorer {
  /** A raw score for one feasible node. */
  score(node: NodeInfo): number;
  /** Turns the raw scores of all feasible nodes into 0..100 in place (default: they already are). */
  normalize?(scores: number[]): void;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  forPod(pod: PodInfo, cluster: ClusterView): PodScorer | undefined;
}

export const MAX_NODE_SCORE = 100;

export const FITS: readonly string[] = Object.freeze([]);
