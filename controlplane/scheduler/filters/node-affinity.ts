// NodeAffinity: the pod's nodeSelector (every label must be equal) and its required node
// affinity (any one nodeSelectorTerm must hold; within a term every matchExpression on labels
// and matchFields on `metadata.name` must hold) must match the node.

import type { NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import { requirementMatches } from '../../../api/labels.js';
import type { LabelOperator, Labels } from '../../../api/labels.js';
import { FITS } from '../framework.js';
import type { FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';

export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
const MISMATCH = [REASON_NODE_AFFINITY];

const OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

export function nodeSelectorRequirementMatches(req: NodeSelectorRequirement, labels: Labels): boolean {
  const operator = OPERATORS[req.operator];
  if (!operator) return false;
  return requirementMatches({ key: req.key, operator, values: req.values ?? [] }, labels);
}

/** A term with no requirements matches no node (core/v1 NodeSelectorTerm). */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  if (!expressions.every((req) => nodeSelectorRequirementMatches(req, node.labels))) return false;
  // The only field a node selector may name is metadata.name.
  return fields.every((req) => req.key === 'metadata.name' && nodeSelectorRequirementMatches(req, { 'metadata.name': node.name }));
}

export function podMatchesNode(pod: Pod, node: NodeInfo): boolean {
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) if (node.labels[key] !== value) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((term) => nodeSelectorTermMatches(term, node));
}

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  forPod(pod) {
    const spec = pod.pod.spec;
    const hasSelector = Object.keys(spec?.nodeSelector ?? {}).length > 0;
    if (!hasSelector && !spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) return undefined;
    return (node) => (podMatchesNode(pod.pod, node) ? FITS : MISMATCH);
  },
};
