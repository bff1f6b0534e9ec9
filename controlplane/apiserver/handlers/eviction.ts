// POST pods/{name}/eviction (policy/v1 Eviction): a pod deletion that honours the
// PodDisruptionBudget covering the pod, as kube-apiserver's EvictionREST does. The budget's
// status is the ledger: an eviction takes one of its disruptionsAllowed with a compare-and-swap
// on the budget's resourceVersion and records the pod in disruptedPods, so that the disruption
// controller counts it as gone until the pod really is (or 2 minutes have passed).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { isConflict, isFencedOut } from '../../../api/client.js';
import { isPodActive, isPodReady } from '../../controllers/pods/pod-state.js';
import { budgetCoversPod, withDisruptionAllowedCondition } from '../../../api/disruption-budgets.js';
import { disruptionTargetStatus } from '../../../api/disruption-target.js';
import { badRequest, forbidden, StatusError, timeout } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import type { GroupVersionKind } from '../../../api/resources.js';
import { kubeTime } from '../../../api/time.js';
import { addWarnings, sendJson } from '../http.js';
import type { DeleteOptions, Fence, Registry } from '../registry/registry.js';
import { dryRunParam, readObject } from './incoming.js';

export const EVICTION_GVK: GroupVersionKind = { group: 'policy', version: 'v1', kind: 'Eviction' };
/** Refuse evictions while this many approved ones wait for the controller (MaxDisruptedPodSize). */
const MAX_DISRUPTED_PODS = 2000;
/** Conflicting writers of one budget (EvictionsRetry's 20 steps, without the sleeps). */
const MAX_CONFLICT_RETRIES = 20;
const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";
const PDB_RESOURCE = { group: 'policy', resource: 'poddisruptionbudget' };

interface Eviction extends KubeObject {
  deleteOptions?: {
    dryRun?: string[];
    gracePeriodSeconds?: number;
    propagationPolicy?: DeleteOptions['propagationPolicy'];
    preconditions?: DeleteOptions['preconditions'];
  };
}

type Budget = PodDisruptionBudget & KubeObject;

/** 429 with the DisruptionBudget cause that tells kubectl drain to retry. */
function violatesBudget(cause: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', VIOLATES_BUDGET, {
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    causes: [{ reason: 'DisruptionBudget', message: cause }],
  });
}

function stillProcessing(name: string): StatusError {
  return violatesBudget(`The disruption budget ${name} is still being processed by the server.`, 10);
}

/**
 * A conflict on the pod or budget written, which reading it again may cure; not a writer that
 * lost its leader lease (retrying that only turns its 409 into a timeout or a 429).
 */
function isObjectConflict(err: unknown): boolean {
  return isConflict(err) && !isFencedOut(err);
}

/** Pods that finished, never started, or are already going: their eviction disrupts nothing more. */
function canIgnoreBudget(pod: Pod & KubeObject): boolean {
  return !isPodActive(pod) || pod.status?.phase === 'Pending';
}

/** The Eviction's deleteOptions, with the request's dryRun folded in (propagateDryRun). */
function deleteOptionsOf(eviction: Eviction, query: URLSearchParams, fence: Fence | undefined): DeleteOptions {
  const given = eviction.deleteOptions ?? {};
  const fromQuery = query.getAll('dryRun');
  const fromBody = given.dryRun ?? [];
  if (fromQuery.length > 0 && fromBody.length > 0 && JSON.stringify(fromQuery) !== JSON.stringify(fromBody)) {
    throw badRequest(`Non-matching dry-run options in request and content: [${fromQuery.join(' ')}] and [${fromBody.join(' ')}]`);
  }
  const options: DeleteOptions = { dryRun: dryRunParam(fromQuery.length > 0 ? fromQuery : fromBody), fence };
  if (given.gracePeriodSeconds !== undefined && given.gracePeriodSeconds !== null) options.gracePeriodSeconds = given.gracePeriodSeconds;
  if (given.propagationPolicy) options.propagationPolicy = given.propagationPolicy;
  if (given.preconditions) options.preconditions = given.preconditions;
  return options;
}

function withResourceVersion(options: DeleteOptions, resourceVersion: string | undefined): DeleteOptions {
  return { ...options, preconditions: { ...options.preconditions, resourceVersion } };
}

export interface EvictionRegistries {
  pods: Registry;
  budgets: Registry;
}

export async function evict(
  registries: EvictionRegistries,
  req: IncomingMessage,
  res: ServerResponse,
  namespace: string,
  name: string,
  query: URLSearchParams,
  fence: Fence | undefined,
): Promise<void> {
  const warnings: string[] = [];
  const eviction = (await readObject(req, EVICTION_GVK, query, warnings, 'CreateOptions', (obj) => {
    // Kubernetes still accepts the policy/v1beta1 form of the same object.
    if (obj.apiVersion === 'policy/v1beta1') obj.apiVersion = 'policy/v1';
  })) as Eviction;
  if (eviction.metadata?.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  const options = deleteOptionsOf(eviction, query, fence);
  const result = await evictPod(registries, namespace, name, options);
  addWarnings(res, warnings);
  if (result === 'several budgets') {
    return sendJson(res, 500, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });
  }
  sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

async function evictPod(registries: EvictionRegistries, namespace: string, name: string, options: DeleteOptions): Promise<'evicted' | 'several budgets'> {
  const { pods } = registries;
  const clientChoseVersion = !!options.preconditions?.resourceVersion;
  let pod: Pod & KubeObject;
  for (let attempt = 0; ; attempt++) {
    pod = (await pods.get(namespace, name)) as Pod & KubeObject;
    if (!canIgnoreBudget(pod)) break;
    // A pod still Pending could become ready meanwhile: delete it only as read.
    const deleteOptions = !isPodActive(pod) || clientChoseVersion ? options : withResourceVersion(options, pod.metadata?.resourceVersion);
    try {
      await addConditionAndDelete(pods, namespace, name, deleteOptions);
      return 'evicted';
    } catch (err) {
      if (!isObjectConflict(err) || clientChoseVersion || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
  }

  const budgets = ((await registries.budgets.list(namespace, {})).items as Budget[]).filter((b) => budgetCoversPod(b, pod.metadata?.labels));
  if (budgets.length > 1) return 'several budgets';
  let deleteOptions = options;
  if (budgets.length === 1) {
    const budget = budgets[0]!;
    const status = budget.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    const unhealthyAllowed =
      !isPodReady(pod) &&
      (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' || (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0));
    if (unhealthyAllowed) {
      // An unready pod counts for nothing in the budget: take none of it, but delete the pod only
      // as read, so that it cannot have become ready in between.
      deleteOptions = withResourceVersion(options, pod.metadata?.resourceVersion);
    } else {
      await takeDisruption(registries.budgets, budget, name, !!options.dryRun, options.fence);
    }
  }
  try {
    await addConditionAndDelete(pods, namespace, name, deleteOptions);
  } catch (err) {
    // The pod changed after the budget let an unready pod go: let the client try again.
    if (isObjectConflict(err) && deleteOptions !== options && !clientChoseVersion) throw stillProcessing(budgets[0]!.metadata!.name!);
    throw err;
  }
  return 'evicted';
}

/**
 * As EvictionREST's addConditionAndDeletePod: the pod, as stored now and checked against the
 * delete's preconditions, gets DisruptionTarget=True (reason EvictionByEvictionAPI) in its status,
 * then the delete follows, its resourceVersion precondition moved to that write. Not in dry runs.
 */
async function addConditionAndDelete(pods: Registry, namespace: string, name: string, options: DeleteOptions): Promise<void> {
  if (!options.dryRun) {
    const marked = await pods.patch(
      namespace,
      name,
      (current) => {
        pods.checkPreconditions(current, options.preconditions);
        return { ...current, status: disruptionTargetStatus(current as Pod, 'EvictionByEvictionAPI') };
      },
      { subresource: 'status', fence: options.fence },
    );
    if (options.preconditions?.resourceVersion) options = withResourceVersion(options, marked.metadata?.resourceVersion);
  }
  await pods.delete(namespace, name, options);
}

/** Takes one of the budget's allowed disruptions (checkAndDecrement), re-reading it on conflicts. */
async function takeDisruption(registry: Registry, first: Budget, podName: string, dryRun: boolean, fence: Fence | undefined): Promise<void> {
  let budget = first;
  const name = budget.metadata!.name!;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    if (attempt > 0) budget = (await registry.get(budget.metadata?.namespace, name)) as Budget;
    const status = budget.status ?? { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    // The status speaks of an older spec: wait for the controller to catch up.
    if ((status.observedGeneration ?? 0) < (budget.metadata?.generation ?? 0)) throw stillProcessing(name);
    if (status.disruptionsAllowed < 0) throw forbidden(PDB_RESOURCE, name, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
      throw forbidden(PDB_RESOURCE, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (status.disruptionsAllowed === 0) {
      throw violatesBudget(`The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`, 0);
    }
    if (dryRun) return;
    const next = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [podName]: kubeTime() } };
    if (next.disruptionsAllowed === 0) next.conditions = withDisruptionAllowedCondition(next);
    try {
      // The budget's resourceVersion is the precondition: two evictions never take the same disruption.
      await registry.update(budget.metadata?.namespace, name, { ...budget, status: next }, { subresource: 'status', fence });
      return;
    } catch (err) {
      if (!isObjectConflict(err)) throw err;
    }
  }
  throw timeout(`couldn't update PodDisruptionBudget "${name}" due to conflicts`);
}
