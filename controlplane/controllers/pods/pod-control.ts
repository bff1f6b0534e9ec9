// Creating and deleting the pods of a controller as kube-controller-manager's PodControl and
// its callers do: with the events PodControl records on the owner (SuccessfulCreate "Created pod:
// x", FailedCreate "Error creating: ...", SuccessfulDelete "Deleted pod: x", FailedDelete "Error
// deleting: ..."), with expectations, and in the "slow start" batches controllers use so that a
// template that cannot be created fails after one request instead of a thousand.

import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeClient } from '../../../api/client.js';
import { isNotFound } from '../../../api/client.js';
import type { EventRecorder } from '../../../api/events.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy, objectKey } from '../../../api/objects.js';
import { apiVersionOf, resourceFor } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { newControllerRef } from '../ownership/controller-ref.js';
import { errorMessage } from '../sync-errors.js';
import type { Expectations } from './expectations.js';

export type PodObject = Pod & KubeObject;

const podsResource = resourceFor('', 'pods');

/** kube-controller-manager's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

/**
 * Calls `fn` `count` times in batches of 1, 2, 4, ... (each batch in parallel), stopping after the
 * first batch in which a call failed. Returns how many calls succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}

/** The object with its apiVersion and kind filled in (list items may lack them), for events. */
export function withTypeMeta<T extends KubeObject>(obj: T, resource: ResourceType): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(resource), kind: obj.kind ?? resource.kind };
}

/** `<name>-` when that is a valid prefix, as controllers name their pods (getPodsPrefix). */
export function podNamePrefix(ownerName: string): string {
  return ownerName.length + 1 <= 253 - 5 ? `${ownerName}-` : ownerName.slice(0, 253 - 5);
}

/** A pod for `template`, owned by `ownerRef` (controller.GetPodFromTemplate). */
export function podFromTemplate(template: PodTemplateSpec | undefined, namespace: string, generateName: string, ownerRef: OwnerReference): PodObject {
  const meta = template?.metadata ?? {};
  const pod: PodObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace,
      ownerReferences: [ownerRef],
    },
    spec: deepCopy(template?.spec ?? { containers: [] }),
  };
  if (meta.labels) pod.metadata!.labels = { ...meta.labels };
  if (meta.annotations) pod.metadata!.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata!.finalizers = [...meta.finalizers];
  return pod;
}

/** The pods one sync of a controller creates and deletes. */
export interface PodChanges {
  create?: {
    count: number;
    template: PodTemplateSpec | undefined;
    /** What differs from pod to pod: adjusts the i-th new pod (from 0, in creation order). */
    adjust?: (pod: PodObject, i: number) => PodObject;
  };
  delete?: readonly Pod[];
}

/** The pods of the owners of one resource (ReplicaSets, Jobs, DaemonSets). */
export class PodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: EventRecorder,
    private readonly ownerResource: ResourceType,
    private readonly expectations: Expectations,
  ) {}

  /**
   * Makes one sync's `changes` to `owner`'s pods: first the creations, from the template with
   * the owner's controller reference, in slow-start batches that stop at the first failing
   * batch; then the deletions, in parallel. The owner expects all of them before the first
   * request, since the pods' events may arrive before the requests return; creations never made
   * and deletions that failed are observed at once, since no event will come for them. A pod
   * already gone is no error. Throws the first error (a creation's before a deletion's) once
   * every deletion was tried.
   * @returns how many pods were created and which were deleted
   */
  async createAndDeletePods(owner: KubeObject, changes: PodChanges): Promise<{ created: number; deleted: Pod[] }> {
    const creations = changes.create?.count ?? 0;
    const deletions = changes.delete ?? [];
    if (creations === 0 && deletions.length === 0) return { created: 0, deleted: [] };
    const key = objectKey(owner);
    this.expectations.expect(key, creations, deletions.map((p) => objectKey(p)));
    const errors: unknown[] = [];

    let created = 0;
    if (changes.create && creations > 0) {
      const { template, adjust } = changes.create;
      const namespace = owner.metadata?.namespace ?? '';
      const generateName = podNamePrefix(owner.metadata?.name ?? '');
      const ref = newControllerRef(owner, apiVersionOf(this.ownerResource), this.ownerResource.kind);
      let next = 0;
      const { successes, error } = await slowStartBatch(creations, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        const pod = podFromTemplate(template, namespace, generateName, ref);
        await this.create(adjust ? adjust(pod, next++) : pod, owner);
      });
      created = successes;
      if (creations > successes) this.expectations.creationObserved(key, creations - successes);
      if (error !== undefined) errors.push(error);
    }

    const deleted: Pod[] = [];
    await Promise.all(
      deletions.map(async (pod) => {
        try {
          await this.delete(pod, owner);
          deleted.push(pod);
        } catch (err) {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (!isNotFound(err)) errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
    return { created, deleted };
  }

  /** Creates `pod` for `owner`, recording the event either way. */
  private async create(pod: PodObject, owner: KubeObject): Promise<void> {
    const subject = withTypeMeta(owner, this.ownerResource);
    try {
      const created = await this.client.create<PodObject>(podsResource, pod.metadata?.namespace, pod);
      this.recorder.event(subject, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (err) {
      this.recorder.event(subject, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** Deletes a pod of `owner`; a pod that is already gone throws NotFound without an event. */
  private async delete(pod: Pod, owner: KubeObject): Promise<void> {
    const subject = withTypeMeta(owner, this.ownerResource);
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.delete(podsResource, pod.metadata?.namespace ?? '', name);
      this.recorder.event(subject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (!isNotFound(err)) this.recorder.event(subject, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }
}
