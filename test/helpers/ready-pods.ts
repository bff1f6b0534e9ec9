// Follows the pods of a label selector through a watch and records, after every event, how many
// of them are Ready and not terminating: the number a rolling update must keep up. A watch (not
// polling) sees every transition, however short.

import { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { TestCluster } from './cluster.js';

const pods = resourceFor('', 'pods');

interface PodLike extends KubeObject {
  status?: { conditions?: { type: string; status: string }[] };
}

export interface ReadyPodSampler {
  /** Ready, non-terminating pods now. */
  current(): number;
  /** The fewest seen since the sampler started. */
  min(): number;
  /** Every count seen, in order (one per change). */
  history(): number[];
  stop(): Promise<void>;
}

function isServing(pod: PodLike): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function sampleReadyPods(c: TestCluster, namespace: string, labelSelector: string): Promise<ReadyPodSampler> {
  const client = new KubeClient({ server: c.url, token: c.controlPlane.adminToken, caPem: c.controlPlane.caCertPem });
  const abort = new AbortController();
  const byName = new Map<string, PodLike>();
  const list = await client.list<PodLike>(pods, namespace, { labelSelector });
  for (const pod of list.items) byName.set(pod.metadata?.name ?? '', pod);
  const count = () => [...byName.values()].filter(isServing).length;
  const seen = [count()];
  let failure: unknown;
  const watching = (async () => {
    try {
      const events = client.watch<PodLike>(pods, namespace, { labelSelector, resourceVersion: list.metadata.resourceVersion, signal: abort.signal });
      for await (const event of events) {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') continue;
        const name = event.object.metadata?.name ?? '';
        if (event.type === 'DELETED') byName.delete(name);
        else byName.set(name, event.object);
        const now = count();
        if (now !== seen[seen.length - 1]) seen.push(now);
      }
      if (!abort.signal.aborted) failure = new Error('the pod watch ended early: some changes may have been missed');
    } catch (err) {
      if (!abort.signal.aborted) failure = err;
    }
  })();
  return {
    current: count,
    min: () => Math.min(...seen),
    history: () => [...seen],
    async stop() {
      abort.abort();
      await watching;
      await client.close();
      if (failure) throw failure;
    },
  };
}
