// The scale subresource (deployments, replicasets, statefulsets): an autoscaling/v1 Scale view
// of `spec.replicas`, what `kubectl scale` and autoscalers read and write.

import { badRequest, fieldError, invalid } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import type { GroupVersionKind } from '../../../api/resources.js';
import { labelSelectorAsString } from '../../../api/labels.js';
import type { Registry, WriteOptions } from '../registry/registry.js';

export const SCALE_GVK: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

interface Scalable {
  spec?: { replicas?: number; selector?: Parameters<typeof labelSelectorAsString>[0] };
  status?: { replicas?: number };
}

export function getScale(obj: KubeObject): KubeObject {
  const s = obj as KubeObject & Scalable;
  const meta = obj.metadata ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: s.spec?.replicas ?? 0 },
    status: { replicas: s.status?.replicas ?? 0, selector: labelSelectorAsString(s.spec?.selector) },
  };
}

export function scaleFromBody(body: KubeObject): { replicas: number; resourceVersion?: string } {
  const replicas = (body['spec'] as { replicas?: unknown } | undefined)?.replicas;
  if (replicas === undefined) return { replicas: 0, resourceVersion: body.metadata?.resourceVersion };
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw badRequest('Scale spec.replicas must be an integer');
  if (replicas < 0) {
    throw invalid({ group: 'autoscaling', kind: 'Scale' }, body.metadata?.name ?? '', [
      fieldError.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'),
    ]);
  }
  return { replicas, resourceVersion: body.metadata?.resourceVersion };
}

/** Writes spec.replicas of the parent; a resourceVersion in the Scale is a precondition. */
export async function setScale(
  registry: Registry,
  namespace: string | undefined,
  name: string,
  replicas: number,
  resourceVersion: string | undefined,
  options: WriteOptions,
): Promise<KubeObject> {
  return registry.patch(
    namespace,
    name,
    (current) => ({
      ...current,
      metadata: { ...current.metadata, resourceVersion: resourceVersion || current.metadata?.resourceVersion },
      spec: { ...(current['spec'] as object), replicas },
    }),
    options,
  );
}
