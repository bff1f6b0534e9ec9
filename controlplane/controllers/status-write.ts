// The status write every workload controller ends its sync with: write only when the computed
// status differs from the object's, and on a conflict (someone else wrote the object since the
// informer's copy) re-read it once and try again. An object that is gone, or was replaced by a
// new one of the same name (another uid), is left alone: the status was computed for the old one.

import { isConflict, isNotFound } from '../../api/client.js';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import type { ResourceType } from '../../api/resources.js';

export async function writeStatusIfChanged<S, T extends KubeObject & { status?: S }>(
  client: KubeClient,
  resource: ResourceType,
  object: T,
  status: S,
  differs: (current: S | undefined, wanted: S) => boolean,
): Promise<void> {
  const namespace = object.metadata?.namespace;
  let current = object;
  for (let attempt = 0; ; attempt++) {
    if (!differs(current.status, status)) return;
    try {
      await client.updateStatus<T>(resource, namespace, { ...current, status });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || attempt >= 1) throw err;
    }
    const fresh = await client.get<T>(resource, namespace, object.metadata?.name ?? '').catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!fresh || fresh.metadata?.uid !== object.metadata?.uid) return;
    current = fresh;
  }
}
