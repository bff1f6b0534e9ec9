// Writes pod statuses through pods/status, only when they changed: the computed status is
// compared with the one the API last showed and the one this agent last wrote, ignoring what
// JSON round trips lose (nulls, empty objects). A patch needs no resourceVersion, so a status
// write never conflicts with the scheduler's or a user's metadata changes. It is a strategic
// merge patch, as the kubelet's status manager sends: conditions merge by type, so those that
// others own (DisruptionTarget, readiness gates) survive a status computed from an older copy of
// the pod; the agent's own lists of IPs replace the stored ones.

import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../api/client.js';
import { resourceFor } from '../../api/resources.js';

const pods = resourceFor('', 'pods');

/** JSON with sorted keys, without nulls, undefined and empty objects. */
export function normalized(value: unknown): string {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const inner = clean((v as Record<string, unknown>)[key]);
        if (inner === undefined || inner === null) continue;
        if (typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner as object).length === 0) continue;
        out[key] = inner;
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(clean(value));
}

/** `podIPs` and `hostIPs` merge by ip in a strategic patch: `$patch: replace` makes them the agent's. */
export function statusPatch(status: PodStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...status };
  for (const list of ['podIPs', 'hostIPs'] as const) {
    const items = status[list];
    if (items) patch[list] = [{ $patch: 'replace' }, ...items];
  }
  return patch;
}

export class PodStatusWriter {
  private readonly lastWritten = new Map<string, string>();

  constructor(private readonly client: KubeClient) {}

  /** Writes `status` unless the pod already shows it; returns whether it wrote. */
  async write(pod: Pod, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const next = normalized(status);
    if (next === normalized(pod.status) || next === this.lastWritten.get(uid)) return false;
    await this.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { status: statusPatch(status) }, 'strategic', { subresource: 'status' });
    this.lastWritten.set(uid, next);
    return true;
  }

  forget(uid: string): void {
    this.lastWritten.delete(uid);
  }
}
