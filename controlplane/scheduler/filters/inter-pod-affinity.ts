// InterPodAffinity (required terms): a node is judged by its value of each term's topologyKey
// (kubernetes.io/hostname makes every node its own domain).
// - The pod's affinity terms: some pod matching the term must already run in the node's domain
//   (unless no pod matches anywhere and the pod matches its own terms: the first of a group).
// - The pod's anti-affinity terms: no pod matching the term may run in the node's domain.
// - Existing pods' anti-affinity terms: no pod whose term matches this pod may run there.

import type { ClusterView, FilterPlugin } from '../framework.js';
import { FITS } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { termMatches } from '../pod-info.js';
import type { AffinityTerm, PodInfo } from '../pod-info.js';

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** topologyKey → the values (domains) it is about. */
type Domains = Map<string, Set<string>>;

function addDomain(domains: Domains, key: string, value: string | undefined): void {
  if (value === undefined) return;
  let values = domains.get(key);
  if (!values) domains.set(key, (values = new Set()));
  values.add(value);
}

function inDomains(domains: Domains, node: NodeInfo): boolean {
  for (const [key, values] of domains) {
    const value = node.labels[key];
    if (value !== undefined && values.has(value)) return true;
  }
  return false;
}

/** Domains holding at least one pod that `term` selects. */
function domainsOfMatchingPods(term: AffinityTerm, cluster: ClusterView, namespaceLabels: ClusterView['namespaceLabels']): Set<string> {
  const values = new Set<string>();
  for (const node of cluster.nodeList) {
    const value = node.labels[term.topologyKey];
    if (value === undefined || values.has(value)) continue;
    for (const other of node.pods.values()) {
      if (termMatches(term, other, namespaceLabels)) {
        values.add(value);
        break;
      }
    }
  }
  return values;
}

export const interPodAffinity: FilterPlugin = {
  name: 'InterPodAffinity',
  forPod(pod: PodInfo, cluster: ClusterView) {
    const labelsOf = (ns: string) => cluster.namespaceLabels(ns);
    // Existing pods whose anti-affinity rejects this pod: the domains they are in.
    const blockedByExisting: Domains = new Map();
    for (const other of cluster.podsWithRequiredAntiAffinity()) {
      const node = cluster.nodeOfPod(other.key);
      if (!node || other.key === pod.key) continue;
      for (const term of other.requiredAntiAffinity) {
        if (termMatches(term, pod, labelsOf)) addDomain(blockedByExisting, term.topologyKey, node.labels[term.topologyKey]);
      }
    }
    const antiAffinity: Domains = new Map();
    for (const term of pod.requiredAntiAffinity) {
      for (const value of domainsOfMatchingPods(term, cluster, labelsOf)) addDomain(antiAffinity, term.topologyKey, value);
    }
    const affinity = pod.requiredAffinity.map((term) => ({ term, values: domainsOfMatchingPods(term, cluster, labelsOf) }));
    const noMatchAnywhere = affinity.every((a) => a.values.size === 0);
    const firstOfGroup = noMatchAnywhere && pod.requiredAffinity.every((term) => termMatches(term, pod, labelsOf));
    if (affinity.length === 0 && antiAffinity.size === 0 && blockedByExisting.size === 0) return undefined;

    const affinityFails = [REASON_AFFINITY];
    const antiFails = [REASON_ANTI_AFFINITY];
    const existingFails = [REASON_EXISTING_ANTI_AFFINITY];
    return (node) => {
      for (const { term, values } of affinity) {
        const value = node.labels[term.topologyKey];
        // Every topology key must exist on the node, even for the first pod of a group.
        if (value === undefined) return affinityFails;
        if (!values.has(value) && !firstOfGroup) return affinityFails;
      }
      if (inDomains(antiAffinity, node)) return antiFails;
      if (inDomains(blockedByExisting, node)) return existingFails;
      return FITS;
    };
  },
};
