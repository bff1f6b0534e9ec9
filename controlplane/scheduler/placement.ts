// One scheduling decision (kube-scheduler's scheduling cycle, without preemption): filter the
// nodes, stopping once enough feasible ones are found (percentageOfNodesToScore's adaptive
// rule, starting where the previous pod stopped so every node gets its turn), score the
// feasible ones, and pick the best (ties at random).

import { fitErrorMessage } from './fit-error.js';
import type { ClusterView, NodeFilter, PodScorer } from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Profile } from './profile.js';

export type Placement =
  | { fits: true; node: NodeInfo; nextStart: number }
  | { fits: false; message: string; reasons: Map<string, number>; nextStart: number };

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/** kube-scheduler's numFeasibleNodesToFind with the default (adaptive) percentage. */
export function numFeasibleNodesToFind(total: number): number {
  if (total < MIN_FEASIBLE_NODES_TO_FIND) return total;
  const percentage = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.floor(total / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((total * percentage) / 100));
}

export function placePod(pod: PodInfo, cluster: ClusterView, profile: Profile, start = 0, random: () => number = Math.random): Placement {
  const nodes = cluster.nodeList;
  const total = nodes.length;
  const filters: NodeFilter[] = [];
  for (const plugin of profile.filters) {
    const check = plugin.forPod(pod, cluster);
    if (check) filters.push(check);
  }
  const wanted = numFeasibleNodesToFind(total);
  const feasible: NodeInfo[] = [];
  const reasons = new Map<string, number>();
  let processed = 0;
  for (; processed < total && feasible.length < wanted; processed++) {
    const node = nodes[(start + processed) % total]!;
    let fits = true;
    for (const check of filters) {
      const why = check(node);
      if (why.length === 0) continue;
      fits = false;
      for (const reason of why) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      break;
    }
    if (fits) feasible.push(node);
  }
  const nextStart = total === 0 ? 0 : (start + processed) % total;
  if (feasible.length === 0) return { fits: false, message: fitErrorMessage(total, reasons), reasons, nextStart };
  if (feasible.length === 1) return { fits: true, node: feasible[0]!, nextStart };
  return { fits: true, node: pickBest(pod, cluster, profile, feasible, random), nextStart };
}

function pickBest(pod: PodInfo, cluster: ClusterView, profile: Profile, feasible: NodeInfo[], random: () => number): NodeInfo {
  const totals = new Array<number>(feasible.length).fill(0);
  for (const plugin of profile.scores) {
    const scorer: PodScorer | undefined = plugin.forPod(pod, cluster);
    if (!scorer) continue;
    const scores = feasible.map((node) => scorer.score(node));
    scorer.normalize?.(scores);
    for (let i = 0; i < scores.length; i++) totals[i]! += scores[i]! * plugin.weight;
  }
  // The best total; among equals each has the same chance (reservoir sampling, as kube-scheduler).
  let best = 0;
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    if (totals[i]! > totals[best]!) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best]) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return feasible[best]!;
}
