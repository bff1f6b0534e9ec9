// Node lifecycle (kube-controller-manager's node lifecycle, taint eviction and the orphan and
// unscheduled parts of pod GC), one reconcile per node:
// 1. A node silent (no Lease renewal, no Ready heartbeat) for longer than the grace period gets
//    all its conditions Unknown; its pods are marked not Ready so Services stop using them.
// 2. Its taints follow its Ready condition (not-ready / unreachable, NoSchedule and NoExecute)
//    and spec.unschedulable; they go away when the agent reports Ready again.
// 3. Pods that do not tolerate a NoExecute taint are deleted, at once or after their
//    tolerationSeconds (counted from the taint's timeAdded).
// 4. Pods bound to a node that no longer exists are marked Failed (DisruptionTarget, reason
//    DeletionByPodGC) and deleted at once (grace period 0).
// 5. Pods being deleted that were never scheduled (a finalizer keeps them) are marked Failed and
//    their deletion forced: no agent will ever end them.
// Taint evictions first set DisruptionTarget (reason DeletionByTaintManager) on the pod.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../../api/client.js';
import type { DisruptionReason } from '../../../api/disruption-target.js';
import { disruptionTargetStatus } from '../../../api/disruption-target.js';
import type { Informer } from '../../../api/informer.js';
import type { KubeObject } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import { runWorkers, WorkQueue } from '../../../api/workqueue.js';
import { readyStatusOf } from '../../scheduler/node-info.js';
import type { Controller, ControllerContext } from '../context.js';
import { isPodTerminal } from '../pods/pod-state.js';
import { logSyncError } from '../sync-errors.js';
import { conditionsAfterSilence } from './conditions.js';
import { evictionFor } from './eviction.js';
import { HeartbeatTracker } from './heartbeat.js';
import { desiredTaints, taintsEqual } from './taints.js';
import { kubeTime } from '../../../api/time.js';

type NodeObject = Node & KubeObject;
type PodObject = Pod & KubeObject;
type LeaseObject = Lease & KubeObject;

const nodes = resourceFor('', 'nodes');
const pods = resourceFor('', 'pods');
const leases = resourceFor('coordination.k8s.io', 'leases');

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const POD_NODE_INDEX = 'spec.nodeName';

export interface NodeLifecycleOptions {
  /** --node-monitor-grace-period: silence after which a node is Unknown (Kubernetes 1.32: 50 s). */
  gracePeriodMs: number;
  /** --node-monitor-period: how often every node is checked (Kubernetes: 5 s). */
  monitorPeriodMs: number;
  now?: () => number;
}

export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 50_000;
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;

export function nodeLifecycleController(options: NodeLifecycleOptions): Controller {
  // A zero period would check nodes in a busy loop, a zero grace period mark every node Unknown.
  if (!(options.monitorPeriodMs > 0)) throw new Error(`invalid node monitor period ${options.monitorPeriodMs} ms: must be greater than zero`);
  if (!(options.gracePeriodMs > 0)) throw new Error(`invalid node monitor grace period ${options.gracePeriodMs} ms: must be greater than zero`);
  return {
    name: 'nodelifecycle',
    // Kubernetes' node lifecycle controller records its events as `node-controller`.
    component: 'node-controller',
    run: (ctx, signal) => new NodeLifecycle(ctx, options).run(signal),
  };
}

/**
 * Queue keys for pods being deleted that no node will ever stop (never scheduled): a prefix no
 * node name can have (names are DNS subdomains), then namespace/name.
 */
const UNSCHEDULED = 'unscheduled:';

class NodeLifecycle {
  private readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly nodeInformer: Informer<NodeObject>;
  private readonly podInformer: Informer<PodObject>;
  private readonly heartbeats: HeartbeatTracker;
  private readonly now: () => number;
  /** Nodes this controller saw deleted: their pods go at once. */
  private readonly deletedNodes = new Set<string>();
  /** Pods bound to a node never seen: when first noticed (a short quarantine before deleting). */
  private readonly orphanedSince = new Map<string, number>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: NodeLifecycleOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.heartbeats = new HeartbeatTracker(() => performance.now());
    this.nodeInformer = ctx.informers.informer<NodeObject>(nodes);
    this.podInformer = ctx.informers.informer<PodObject>(pods).addIndex(POD_NODE_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    this.nodeInformer.on({
      add: (node) => this.nodeSeen(node),
      update: (_old, node) => this.nodeSeen(node),
      delete: (node) => {
        const name = node.metadata?.name ?? '';
        this.heartbeats.forget(name);
        this.deletedNodes.add(name);
        this.queue.add(name);
      },
    });
    // All Leases (the informer the garbage collector shares), not a second watch on kube-node-lease.
    const isNodeLease = (lease: LeaseObject) => lease.metadata?.namespace === NODE_LEASE_NAMESPACE;
    ctx.informers.informer<LeaseObject>(leases).on({
      add: (lease) => {
        if (isNodeLease(lease)) this.heartbeats.observeLease(lease);
      },
      update: (_old, lease) => {
        if (!isNodeLease(lease)) return;
        const name = lease.metadata?.name ?? '';
        if (this.heartbeats.observeLease(lease) && readyStatusOf(this.nodeInformer.getByName(undefined, name)) !== 'True') this.queue.add(name);
      },
    });
    this.podInformer.on({
      add: (pod) => this.podSeen(pod),
      update: (_old, pod) => this.podSeen(pod),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.ctx.informers.waitForSync(signal);
    } catch {
      return;
    }
    const monitor = setInterval(() => this.enqueueAll(), this.options.monitorPeriodMs);
    signal.addEventListener('abort', () => clearInterval(monitor), { once: true });
    this.enqueueAll();
    await runWorkers(this.queue, 2, (name) => this.reconcile(name), signal, (name, err) =>
      logSyncError(this.ctx.logger, err, { node: name }, 'node lifecycle sync failed; retrying'),
    );
    clearInterval(monitor);
  }

  private nodeSeen(node: NodeObject): void {
    const name = node.metadata?.name ?? '';
    this.deletedNodes.delete(name);
    this.heartbeats.observeNode(node);
    this.queue.add(name);
  }

  private podSeen(pod: PodObject): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      if (isUnscheduledTerminating(pod)) this.queue.add(`${UNSCHEDULED}${pod.metadata?.namespace}/${pod.metadata?.name}`);
      return;
    }
    const node = this.nodeInformer.getByName(undefined, nodeName);
    // Only pods that may have to go concern this controller.
    if (!node || readyStatusOf(node) !== 'True' || (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute')) this.queue.add(nodeName);
  }

  private enqueueAll(): void {
    for (const node of this.nodeInformer.list()) this.queue.add(node.metadata?.name ?? '');
    // Pods on nodes that are not there (deleted while we were not leading, or never created).
    for (const pod of this.podInformer.list((p) => !!p.spec?.nodeName && !this.nodeInformer.getByName(undefined, p.spec.nodeName))) {
      this.queue.add(pod.spec!.nodeName!);
    }
    for (const pod of this.podInformer.list(isUnscheduledTerminating)) this.podSeen(pod);
  }

  private async reconcile(name: string): Promise<void | { requeueAfterMs?: number }> {
    if (name.startsWith(UNSCHEDULED)) return this.endUnscheduled(name.slice(UNSCHEDULED.length));
    const node = this.nodeInformer.getByName(undefined, name);
    const podsOnNode = this.podInformer.byIndex(POD_NODE_INDEX, name);
    if (!node) return this.deleteOrphans(name, podsOnNode);
    this.orphanedSince.delete(name);

    // 1. Silence beyond the grace period: the conditions become Unknown.
    if (this.heartbeats.silentFor(name) > this.options.gracePeriodMs) {
      const conditions = conditionsAfterSilence(node, this.now());
      if (conditions) {
        await this.ctx.client.updateStatus(nodes, undefined, { ...node, status: { ...node.status, conditions } });
        this.ctx.logger.warn({ node: name }, 'node stopped posting status: marked Unknown');
        this.ctx.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
        return; // the update comes back through the informer
      }
    }
    const ready = readyStatusOf(node);

    // 2. Taints follow the Ready condition and spec.unschedulable.
    const taints = desiredTaints(node, this.now());
    if (!taintsEqual(taints, node.spec?.taints ?? [])) {
      await this.ctx.client.patch(nodes, undefined, name, {
        metadata: { resourceVersion: node.metadata?.resourceVersion },
        spec: { taints: taints.length > 0 ? taints : null },
      });
      return;
    }

    // 3. Pods of an unreachable node are not Ready; NoExecute taints evict.
    let nextEvictionMs: number | undefined;
    for (const pod of podsOnNode) {
      if (pod.metadata?.deletionTimestamp || isPodTerminal(pod)) continue;
      if (ready === 'Unknown') await this.markNotReady(pod);
      const eviction = evictionFor(pod, taints, this.now());
      if (eviction.kind === 'now') await this.evict(pod);
      else if (eviction.kind === 'at') nextEvictionMs = Math.min(nextEvictionMs ?? Infinity, eviction.atMs - this.now());
    }
    return nextEvictionMs === undefined ? undefined : { requeueAfterMs: Math.max(50, nextEvictionMs) };
  }

  /** Pods bound to a missing node: deleted at once if we saw the node go, after a quarantine otherwise. */
  private async deleteOrphans(name: string, podsOnNode: PodObject[]): Promise<void | { requeueAfterMs?: number }> {
    // Every one goes, terminating or finished ones too: no agent will ever confirm them.
    const live = podsOnNode;
    if (live.length === 0) {
      this.orphanedSince.delete(name);
      return;
    }
    if (!this.deletedNodes.has(name)) {
      // A pod may name a node that is about to register: wait a monitor period or two first.
      const since = this.orphanedSince.get(name) ?? this.now();
      this.orphanedSince.set(name, since);
      const quarantine = 2 * this.options.monitorPeriodMs;
      if (this.now() - since < quarantine) return { requeueAfterMs: quarantine - (this.now() - since) };
    }
    for (const pod of live) {
      await this.failAndDelete(pod, 'DeletionByPodGC');
      this.ctx.logger.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, node: name }, 'deleted pod of a deleted node');
    }
  }

  /**
   * A pod being deleted that was never scheduled (a finalizer, such as a Job's, keeps it): no
   * agent will ever end it, so, as PodGC's gcUnscheduledTerminating does, it is marked Failed
   * and its deletion forced; whoever holds the finalizer then sees how it ended.
   */
  private async endUnscheduled(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.podInformer.getByName(namespace, name);
    if (!pod || !isUnscheduledTerminating(pod)) return;
    await this.failAndDelete(pod, undefined);
  }

  /** PodGC's markFailedAndDeletePod: phase Failed (and the DisruptionTarget reason, if any), then a forced deletion. */
  private async failAndDelete(pod: PodObject, reason: DisruptionReason | undefined): Promise<void> {
    await this.markDisrupted(pod, reason, true);
    try {
      await this.ctx.client.delete(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async markNotReady(pod: PodObject): Promise<void> {
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'False') return;
    const condition: PodCondition = {
      type: 'Ready',
      status: 'False',
      lastProbeTime: null as unknown as string,
      lastTransitionTime: kubeTime(this.now()),
    };
    try {
      await this.ctx.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { status: { conditions: [condition] } }, 'strategic', {
        subresource: 'status',
      });
      this.ctx.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * The DisruptionTarget condition (and, for pods no agent will end, phase Failed) written on the
   * pod as the informer has it, conditional on its resourceVersion: a pod that changed meanwhile,
   * or is gone, is deleted all the same, without it (the condition only tells why it goes).
   */
  private async markDisrupted(pod: PodObject, reason: DisruptionReason | undefined, fail: boolean): Promise<void> {
    // PodGC leaves finished pods as they are (markFailedAndDeletePodWithCondition).
    if (fail && isPodTerminal(pod)) return;
    // Only what changes: the conditions (a merge patch replaces the list, hence the version check) and the phase.
    const status: NonNullable<Pod['status']> = {};
    if (reason) status.conditions = disruptionTargetStatus(pod, reason, kubeTime(this.now())).conditions;
    if (fail) status.phase = 'Failed';
    const patch = { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status };
    try {
      await this.ctx.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', patch, 'merge', { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  private async evict(pod: PodObject): Promise<void> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    await this.markDisrupted(pod, 'DeletionByTaintManager', false);
    try {
      await this.ctx.client.delete(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid } });
      this.ctx.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
      this.ctx.logger.info({ pod: key, node: pod.spec?.nodeName }, 'evicted pod from a NoExecute-tainted node');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function isUnscheduledTerminating(pod: PodObject): boolean {
  return !pod.spec?.nodeName && !!pod.metadata?.deletionTimestamp && !isPodTerminal(pod);
}
