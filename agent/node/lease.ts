// The node heartbeat: a Lease named after the node in kube-node-lease, owned by the Node (so it
// goes with it), renewed every 10 s (a quarter of its 40 s duration). A failed renewal is
// retried with back-off from 200 ms to 7 s, as the kubelet's lease controller does.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from 'pino';
import type { KubeClient } from '../../api/client.js';
import { isConflict, isNotFound } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { delay as sleep } from '../../api/delay.js';
import { kubeMicroTime } from '../../api/time.js';

const leases = resourceFor('coordination.k8s.io', 'leases');
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

type LeaseObject = Lease & KubeObject;

export interface NodeLeaseOptions {
  client: KubeClient;
  nodeName: string;
  nodeUid: () => string | undefined;
  durationSeconds: number;
  renewIntervalMs: number;
  logger: Logger;
  onFailure?: () => void;
}

export class NodeLease {
  private current: LeaseObject | undefined;

  constructor(private readonly options: NodeLeaseOptions) {}

  /** Renews until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let retryMs = 200;
    while (!signal.aborted) {
      let waitMs = this.options.renewIntervalMs;
      try {
        await this.renew();
        retryMs = 200;
      } catch (err) {
        this.options.onFailure?.();
        this.options.logger.warn({ err: String(err) }, 'node lease renewal failed');
        this.current = undefined;
        waitMs = retryMs;
        retryMs = Math.min(retryMs * 2, 7000);
      }
      await sleep(waitMs, signal);
    }
  }

  async renew(): Promise<void> {
    const { client, nodeName } = this.options;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: this.options.durationSeconds, renewTime: kubeMicroTime() };
    if (this.current) {
      try {
        this.current = await client.update<LeaseObject>(leases, NODE_LEASE_NAMESPACE, { ...this.current, spec: { ...this.current.spec, ...spec } });
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    try {
      const existing = await client.get<LeaseObject>(leases, NODE_LEASE_NAMESPACE, nodeName);
      this.current = await client.update<LeaseObject>(leases, NODE_LEASE_NAMESPACE, { ...existing, spec: { ...existing.spec, ...spec } });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const uid = this.options.nodeUid();
    this.current = await client.create<LeaseObject>(leases, NODE_LEASE_NAMESPACE, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ownerReferences: uid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid }] : undefined,
      },
      spec: { ...spec, acquireTime: spec.renewTime },
    } as LeaseObject);
  }
}
