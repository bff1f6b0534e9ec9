// Carrying out a plan's steps on the API, as kube-controller-manager's StatefulPodControl does:
// with its events on the set ("create Pod web-0 in StatefulSet web successful", FailedCreate,
// SuccessfulDelete, SuccessfulUpdate... and RecreatingFailedPod), and with expectations so that
// a sync that runs before the informer has shown this sync's pods does not act on them again.

import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../../api/client.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../../api/client.js';
import type { EventRecorder } from '../../../api/events.js';
import type { KubeObject } from '../../../api/objects.js';
import { objectKey } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import type { Expectations } from '../pods/expectations.js';
import { slowStartBatch, SLOW_START_INITIAL_BATCH_SIZE, withTypeMeta } from '../pods/pod-control.js';
import type { PodObject } from '../pods/pod-control.js';
import { errorMessage } from '../sync-errors.js';
import { identityLabels, newStatefulSetPod } from './identity.js';
import type { StatefulSetPlan, Step } from './plan.js';

type StatefulSetObject = StatefulSet & KubeObject;

const podsResource = resourceFor('', 'pods');
const statefulSetsResource = resourceFor('apps', 'statefulsets');

type Verb = 'create' | 'delete' | 'update';
const REASON: Record<Verb, string> = { create: 'Create', delete: 'Delete', update: 'Update' };

export class StatefulPodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: EventRecorder,
    private readonly expectations: Expectations,
  ) {}

  /**
   * Runs the plan's phases in order, each only once the one before succeeded; throws the first
   * error. The set expects every creation and deletion of the plan before the first request
   * (their watch events may come before the responses); those that fail or never run are
   * observed at once, since no event will come for them.
   * @param templates the template of each revision a creation may name
   */
  async apply(set: StatefulSetObject, plan: StatefulSetPlan, templates: ReadonlyMap<string, PodTemplateSpec | undefined>): Promise<void> {
    const steps = plan.phases.flat();
    const key = objectKey(set);
    const deletions = steps.flatMap((s) => (s.action === 'delete' ? [objectKey(s.pod)] : []));
    this.expectations.expect(key, steps.filter((s) => s.action === 'create').length, deletions);
    let started = 0;
    const run = (step: Step) => {
      started++;
      return this.step(set, step, templates);
    };
    try {
      for (const phase of plan.phases) {
        if (plan.ordered) {
          for (const step of phase) await run(step);
          continue;
        }
        let next = 0;
        const { error } = await slowStartBatch(phase.length, SLOW_START_INITIAL_BATCH_SIZE, () => run(phase[next++]!));
        if (error !== undefined) throw error;
      }
    } finally {
      for (const step of steps.slice(started)) this.neverMade(key, step);
    }
  }

  private neverMade(key: string, step: Step): void {
    if (step.action === 'create') this.expectations.creationObserved(key);
    else if (step.action === 'delete') this.expectations.deletionObserved(key, objectKey(step.pod));
  }

  private step(set: StatefulSetObject, step: Step, templates: ReadonlyMap<string, PodTemplateSpec | undefined>): Promise<void> {
    switch (step.action) {
      case 'create':
        return this.create(set, newStatefulSetPod(set, templates.get(step.revision), step.ordinal, step.revision));
      case 'delete':
        if (step.reason === 'terminated') {
          const failed = step.pod.status?.phase === 'Failed';
          const what = `StatefulSet ${set.metadata?.namespace}/${set.metadata?.name} is recreating ${failed ? 'failed' : 'terminated'} Pod ${step.pod.metadata?.name}`;
          this.recorder.event(this.subject(set), failed ? 'Warning' : 'Normal', failed ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod', what);
        }
        return this.delete(set, step);
      case 'restoreIdentity':
        return this.restoreIdentity(set, step);
    }
  }

  private async create(set: StatefulSetObject, pod: PodObject): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.create(podsResource, pod.metadata?.namespace, pod);
      this.record(set, 'create', name);
    } catch (err) {
      this.expectations.creationObserved(objectKey(set));
      // A pod of that name exists that this set does not own (yet): no event, as in Kubernetes.
      if (!isAlreadyExists(err)) this.record(set, 'create', name, err);
      throw err;
    }
  }

  private async delete(set: StatefulSetObject, step: Extract<Step, { action: 'delete' }>): Promise<void> {
    const { pod } = step;
    const name = pod.metadata?.name ?? '';
    try {
      // The uid precondition spares a successor that already took the name.
      await this.client.delete(podsResource, pod.metadata?.namespace, name, { preconditions: { uid: pod.metadata?.uid } });
      this.record(set, 'delete', name);
    } catch (err) {
      this.expectations.deletionObserved(objectKey(set), objectKey(pod));
      if (isNotFound(err) || isConflict(err)) return;
      this.record(set, 'delete', name, err);
      throw err;
    }
  }

  private async restoreIdentity(set: StatefulSetObject, step: Extract<Step, { action: 'restoreIdentity' }>): Promise<void> {
    const { pod } = step;
    const name = pod.metadata?.name ?? '';
    try {
      const patch = { metadata: { labels: identityLabels(set, step.ordinal), resourceVersion: pod.metadata?.resourceVersion } };
      await this.client.patch(podsResource, pod.metadata?.namespace, name, patch, 'strategic');
      this.record(set, 'update', name);
    } catch (err) {
      // Changed or gone meanwhile: the next sync sees it as it is now.
      if (!isConflict(err) && !isNotFound(err)) this.record(set, 'update', name, err);
      throw err;
    }
  }

  private subject(set: StatefulSetObject): StatefulSetObject {
    return withTypeMeta(set, statefulSetsResource);
  }

  /** The event Kubernetes records for each pod write (recordPodEvent). */
  private record(set: StatefulSetObject, verb: Verb, podName: string, err?: unknown): void {
    const what = `${verb} Pod ${podName} in StatefulSet ${set.metadata?.name}`;
    if (err === undefined) this.recorder.event(this.subject(set), 'Normal', `Successful${REASON[verb]}`, `${what} successful`);
    else this.recorder.event(this.subject(set), 'Warning', `Failed${REASON[verb]}`, `${what} failed error: ${errorMessage(err)}`);
  }
}
