// Creating and deleting the pods of a controller, with the events Kubernetes' PodControl records
// on the owner (SuccessfulCreate "Created pod: x", FailedCreate "Error creating: ...",
// SuccessfulDelete "Deleted pod: x", FailedDelete "Error deleting: ..."), and the "slow start"
// batching controllers use so that a template that cannot be created fails after one request
// instead of a thousand.

import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeClient } from '../../../api/client.js';
import { isNotFound } from '../../../api/client.js';
import type { EventRecorder } from '../../../api/events.js';
import type { KubeObject } from '../../../api/objects.js';
import { apiVersionOf, resourceFor } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { deepCopy } from '../../../api/objects.js';

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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: EventRecorder,
  ) {}

  /** Creates `pod` for `owner` (of `ownerResource`), recording the event either way. */
  async create(pod: PodObject, owner: KubeObject, ownerResource: ResourceType): Promise<PodObject> {
    const subject = withTypeMeta(owner, ownerResource);
    try {
      const created = await this.client.create<PodObject>(podsResource, pod.metadata?.namespace, pod);
      this.recorder.event(subject, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      return created;
    } catch (err) {
      this.recorder.event(subject, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** Deletes a pod of `owner`; a pod that is already gone throws NotFound without an event. */
  async delete(namespace: string, name: string, owner: KubeObject, ownerResource: ResourceType): Promise<void> {
    const subject = withTypeMeta(owner, ownerResource);
    try {
      await this.client.delete(podsResource, namespace, name);
      this.recorder.event(subject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (!isNotFound(err)) this.recorder.event(subject, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }
}
