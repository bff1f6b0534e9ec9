// The scheduler's plugins, in the order kube-scheduler's default profile runs them: a node is
// rejected by the first filter that objects, and that filter's reasons are what the pod's
// "0/N nodes are available" message counts.

import type { FilterPlugin, ScorePlugin } from './framework.js';
import { interPodAffinity } from './filters/inter-pod-affinity.js';
import { nodeAffinity } from './filters/node-affinity.js';
import { nodePorts } from './filters/node-ports.js';
import { nodeReady } from './filters/node-ready.js';
import { nodeUnschedulable } from './filters/node-unschedulable.js';
import { resourcesFit } from './filters/resources-fit.js';
import { taintToleration } from './filters/taint-toleration.js';
import { podTopologySpread, podTopologySpreadScore } from './filters/topology-spread.js';
import { leastAllocatedScore } from './scores/least-allocated.js';
import { nodeAffinityPreferenceScore } from './scores/node-affinity-preference.js';
import { ownerSpreadScore } from './scores/owner-spread.js';
import { taintPreferenceScore } from './scores/taint-preference.js';

export interface Profile {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
}

export const DEFAULT_PROFILE: Profile = {
  filters: [nodeUnschedulable, nodeReady, taintToleration, nodeAffinity, nodePorts, resourcesFit, podTopologySpread, interPodAffinity],
  scores: [leastAllocatedScore, ownerSpreadScore, taintPreferenceScore, nodeAffinityPreferenceScore, podTopologySpreadScore],
};
