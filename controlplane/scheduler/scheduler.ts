// The scheduler, run by the elected controller-manager: pending pods (no spec.nodeName, our
// schedulerName) come from the shared pod informer into a queue; each is placed by the filters
// and scores of the profile, assumed onto its node in the cache at once, and bound through
// `pods/NAME/binding` in the background (the server binds with compare-and-swap, so a pod is
// never bound twice). A pod that fits nowhere gets PodScheduled=False/Unschedulable with
// kube-scheduler's message and a FailedScheduling event, and is retried when the cluster changes.
//
// One informer watches all pods (as kube-scheduler's does): bound pods feed the resource
// accounting, unbound ones the queue; a second watch with `spec.nodeName=` would only repeat it.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Namespace, Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { isFencedOut, isNotFound } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import type { Informer } from '../../api/informer.js';
import { objectKey } from '../../api/objects.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor, resourcePath } from '../../api/resources.js';
import type { Controller, ControllerContext } from '../controllers/context.js';
import { isPodTerminal } from '../controllers/pods/pod-state.js';
import { SchedulerCache } from './cache.js';
import { readyStatusOf } from './node-info.js';
import { podInfoOf } from './pod-info.js';
import type { PodInfo } from './pod-info.js';
import { placePod } from './placement.js';
import { sameJson } from '../../api/same-json.js';
import { DEFAULT_PROFILE } from './profile.js';
import type { Profile } from './profile.js';
import { SchedulingQueue } from './queue.js';
import type { SchedulingQueueOptions } from './queue.js';
import { kubeTime } from '../../api/time.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
const DEFAULT_BIND_CONCURRENCY = 128;

type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;
type NamespaceObject = Namespace & KubeObject;

const pods = resourceFor('', 'pods');
const nodes = resourceFor('', 'nodes');
const namespaces = resourceFor('', 'namespaces');

export interface SchedulerOptions {
  schedulerName?: string;
  profile?: Profile;
  /**
   * Bindings in flight at once (default 128). kube-scheduler binds each pod in a goroutine of
   * its own, without a limit; a bound keeps a burst from queueing without end at the API
   * server. It must stay well above what the API server's latency under load allows: 32, at
   * 30-40 ms per binding while pods were being created, capped the scheduler near 850 pods/s
   * and left it seconds behind the creates (bench/scheduler.ts).
   */
  bindConcurrency?: number;
  queue?: SchedulingQueueOptions;
}

export function schedulerController(options: SchedulerOptions = {}): Controller {
  const name = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  return {
    name: 'scheduler',
    component: name,
    run: (ctx, signal) => new Scheduler(ctx, options).run(signal),
  };
}

/** Whether a node update can change where pods fit (heartbeats and images do not). */
function schedulingChanged(old: Node, node: Node): boolean {
  return !(
    sameJson(old.metadata?.labels, node.metadata?.labels) &&
    sameJson(old.spec?.taints, node.spec?.taints) &&
    sameJson(old.spec?.unschedulable, node.spec?.unschedulable) &&
    sameJson(old.status?.allocatable ?? old.status?.capacity, node.status?.allocatable ?? node.status?.capacity) &&
    readyStatusOf(old) === readyStatusOf(node)
  );
}

/** Whether a pending pod's update can change where it fits (our own status writes do not). */
function podSchedulingChanged(old: Pod, pod: Pod): boolean {
  return !(sameJson(old.metadata?.labels, pod.metadata?.labels) && sameJson(old.spec, pod.spec));
}

/** At most `limit` tasks at once; `acquire` waits for a free slot. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) return next();
    this.used--;
    if (this.used === 0) for (const done of this.idle.splice(0)) done();
  }

  drained(): Promise<void> {
    return this.used === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  private readonly name: string;
  private readonly profile: Profile;
  private readonly podInformer: Informer<PodObject>;
  private readonly binds: Slots;
  private readonly statusWrites = new Slots(8);
  private nextStart = 0;

  constructor(
    private readonly ctx: ControllerContext,
    options: SchedulerOptions = {},
  ) {
    this.name = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.profile = options.profile ?? DEFAULT_PROFILE;
    this.binds = new Slots(options.bindConcurrency ?? DEFAULT_BIND_CONCURRENCY);
    this.queue = new SchedulingQueue(options.queue);
    this.podInformer = ctx.informers.informer<PodObject>(pods);
    this.podInformer.on({
      add: (pod) => this.podChanged(undefined, pod),
      update: (old, pod) => this.podChanged(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
    ctx.informers.informer<NodeObject>(nodes).on({
      add: (node) => {
        this.cache.setNode(node);
        this.queue.moveAllToActive();
      },
      update: (old, node) => {
        this.cache.setNode(node);
        if (schedulingChanged(old, node)) this.queue.moveAllToActive();
      },
      delete: (node) => {
        this.cache.deleteNode(node.metadata?.name ?? '');
        // One topology domain fewer can let a spread constraint be met (PodTopologySpread's NodeDelete).
        this.queue.moveAllToActive();
      },
    });
    ctx.informers.informer<NamespaceObject>(namespaces).on({
      add: (ns) => this.cache.setNamespace(ns.metadata?.name ?? '', ns.metadata?.labels),
      update: (_old, ns) => this.cache.setNamespace(ns.metadata?.name ?? '', ns.metadata?.labels),
      delete: (ns) => this.cache.deleteNamespace(ns.metadata?.name ?? ''),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    await this.ctx.informers.waitForSync(signal);
    let lastYield = performance.now();
    while (!signal.aborted) {
      const key = await this.queue.pop();
      if (key === undefined) break;
      await this.scheduleOne(key);
      // Placing pods is CPU work; let I/O (watch events, binding replies) in regularly.
      if (performance.now() - lastYield > 10) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    await this.binds.drained();
    await this.statusWrites.drained();
  }

  isPending(pod: Pod): boolean {
    return (
      !pod.spec?.nodeName &&
      (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.name &&
      !pod.metadata?.deletionTimestamp &&
      !isPodTerminal(pod) &&
      (pod.spec?.schedulingGates?.length ?? 0) === 0
    );
  }

  // -------------------------------------------------------------------------------------------

  private podChanged(old: Pod | undefined, pod: Pod): void {
    const key = objectKey(pod);
    if (pod.spec?.nodeName) {
      const wasBound = !!old?.spec?.nodeName;
      const changed = this.cache.setBoundPod(pod);
      this.queue.done(key);
      // A pod newly placed (bound by this scheduler or another, or created bound) may be the one a
      // waiting pod's required affinity names, as kube-scheduler's AssignedPodAdd event says; a
      // bound pod that finished, shrank or was relabelled may let a waiting pod fit (resources,
      // host ports, inter-pod affinity, spreading), as its AssignedPodUpdate does.
      if (!wasBound || changed) this.queue.moveAllToActive();
      return;
    }
    if (!this.isPending(pod)) {
      this.queue.done(key);
      return;
    }
    if (this.cache.isAssumed(key)) return;
    if (!old || !this.isPending(old) || podSchedulingChanged(old, pod)) this.queue.add(key);
  }

  private podDeleted(pod: Pod): void {
    const key = objectKey(pod);
    const wasPlaced = !!this.cache.nodeOfPod(key);
    this.cache.deletePod(key);
    this.queue.done(key);
    if (wasPlaced) this.queue.moveAllToActive();
  }

  private async scheduleOne(key: string): Promise<void> {
    const pod = this.podInformer.get(key);
    if (!pod || !this.isPending(pod) || this.cache.isAssumed(key)) return;
    const info = podInfoOf(pod);
    const placement = placePod(info, this.cache, this.profile, this.nextStart);
    this.nextStart = placement.nextStart;
    if (!placement.fits) {
      this.queue.failed(key, true);
      this.recordUnschedulable(pod, placement.message);
      return;
    }
    this.cache.assume(info, placement.node.name);
    await this.binds.acquire();
    void this.bind(info, placement.node.name).finally(() => this.binds.release());
  }

  private async bind(info: PodInfo, nodeName: string): Promise<void> {
    // The pod as scheduled: the cache may swap in the bound version before the reply comes.
    const pod = info.pod as PodObject;
    try {
      await this.ctx.client.request('POST', resourcePath(pods, info.namespace, info.name, 'binding'), {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: info.name, namespace: info.namespace, uid: info.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
      this.ctx.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${info.namespace}/${info.name} to ${nodeName}`);
    } catch (err) {
      this.cache.forget(info.key);
      if (isNotFound(err) || (err instanceof StatusError && err.code === 409 && !isFencedOut(err))) {
        // Gone, being deleted, or bound by someone else: nothing left to do.
        this.queue.done(info.key);
        return;
      }
      this.ctx.logger.warn({ err, pod: info.key, node: nodeName }, 'binding failed; will retry');
      this.queue.failed(info.key, false);
      this.queue.moveAllToActive();
    }
  }

  /** PodScheduled=False with the reason, and a FailedScheduling event, as kube-scheduler records them. */
  private recordUnschedulable(pod: PodObject, message: string): void {
    this.ctx.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    const condition: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : kubeTime(),
    };
    void (async () => {
      await this.statusWrites.acquire();
      try {
        await this.ctx.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { status: { conditions: [condition] } }, 'strategic', {
          subresource: 'status',
        });
      } catch (err) {
        if (!isNotFound(err)) this.ctx.logger.debug({ err, pod: objectKey(pod) }, 'could not record the scheduling failure');
      } finally {
        this.statusWrites.release();
      }
    })();
  }
}
