// spec.podFailurePolicy: what a failed pod's failure means for its Job. The rules are tried in
// order and the first that matches decides: FailJob fails the whole Job at once, Ignore neither
// counts the failure towards backoffLimit nor in status.failed (a replacement runs), Count counts
// it as usual. A failure no rule matches counts as usual too.

import type { Job, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';

/** The decision of the first matching rule; FailJob carries the message the Job fails with. */
export type PolicyMatch = { action: 'FailJob'; message: string } | { action: 'Ignore' } | { action: 'Count' };

export function hasPodFailurePolicy(job: Job): boolean {
  return !!job.spec?.podFailurePolicy;
}

/** The first rule that matches the failed pod, or undefined when none does (or there is no policy). */
export function matchPodFailurePolicy(job: Job, pod: Pod): PolicyMatch | undefined {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  for (const [index, rule] of rules.entries()) {
    const match = matchRule(rule, index, pod);
    if (match) return match;
  }
  return undefined;
}

/** Whether the pod's failure counts towards backoffLimit and in status.failed. */
export function countsAsFailure(job: Job, pod: Pod): boolean {
  return matchPodFailurePolicy(job, pod)?.action !== 'Ignore';
}

function matchRule(rule: PodFailurePolicyRule, index: number, pod: Pod): PolicyMatch | undefined {
  const ref = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  if (rule.onExitCodes) {
    const container = matchExitCodes(pod, rule.onExitCodes);
    if (!container) return undefined;
    const exitCode = container.state?.terminated?.exitCode ?? 0;
    return decide(rule.action, () => `Container ${container.name} for pod ${ref} failed with exit code ${exitCode} matching FailJob rule at index ${index}`);
  }
  if (rule.onPodConditions) {
    const condition = matchPodConditions(pod, rule.onPodConditions);
    if (!condition) return undefined;
    return decide(rule.action, () => `Pod ${ref} has condition ${condition.type} matching FailJob rule at index ${index}`);
  }
  return undefined;
}

/**
 * A matched rule's action. An action this controller does not know is skipped, as the API asks of
 * clients: FailIndex among them, which the API server only accepts with backoffLimitPerIndex,
 * which Skiff refuses.
 */
function decide(action: string, failJobMessage: () => string): PolicyMatch | undefined {
  switch (action) {
    case 'FailJob':
      return { action: 'FailJob', message: failJobMessage() };
    case 'Ignore':
      return { action: 'Ignore' };
    case 'Count':
      return { action: 'Count' };
    default:
      return undefined;
  }
}

/**
 * The first terminated container whose non-zero exit code satisfies the requirement: the regular
 * containers first, then the init containers. Exit code 0 never matches, whatever the operator.
 */
export function matchExitCodes(pod: Pod, requirement: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  for (const statuses of [pod.status?.containerStatuses, pod.status?.initContainerStatuses]) {
    for (const status of statuses ?? []) {
      const exitCode = status.state?.terminated ? (status.state.terminated.exitCode ?? 0) : 0;
      if (exitCode === 0) continue;
      if (requirement.containerName !== undefined && requirement.containerName !== null && requirement.containerName !== status.name) continue;
      if (exitCodeSatisfies(exitCode, requirement)) return status;
    }
  }
  return undefined;
}

function exitCodeSatisfies(exitCode: number, requirement: PodFailurePolicyOnExitCodesRequirement): boolean {
  const listed = (requirement.values ?? []).includes(exitCode);
  if (requirement.operator === 'In') return listed;
  if (requirement.operator === 'NotIn') return !listed;
  return false;
}

/** The first of the pod's conditions (in the pod's order) that some pattern matches. */
export function matchPodConditions(pod: Pod, patterns: readonly PodFailurePolicyOnPodConditionsPattern[]): PodCondition | undefined {
  // The API server defaults a pattern's status to True.
  return pod.status?.conditions?.find((c) => patterns.some((p) => p.type === c.type && (p.status || 'True') === c.status));
}

/** The message of the first failed pod that matches a FailJob rule, if any (getFailJobMessage). */
export function failJobMessage(job: Job, failedPods: readonly Pod[]): string | undefined {
  if (!hasPodFailurePolicy(job)) return undefined;
  for (const pod of failedPods) {
    const match = matchPodFailurePolicy(job, pod);
    if (match?.action === 'FailJob') return match.message;
  }
  return undefined;
}
