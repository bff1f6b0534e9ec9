// The scheduler's picture of the cluster: nodes and the pods bound to them, fed by informers,
// plus the pods it has *assumed* onto a node before the API confirmed the binding (kube-
// scheduler's cache). Assuming at once lets the next pod of a burst see the first one's
// resources, ports and owner; the informer's update later confirms the assumption, and a
// failed binding forgets it. A pod's accounting is redone only when its scheduling inputs
// change: most updates of a bound pod are its agent's status writes.

import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Labels } from '../../api/labels.js';
import { isPodTerminal } from '../controllers/pods/pod-state.js';
import type { ClusterView, NodeCounts } from './framework.js';
import { NodeInfo } from './node-info.js';
import { podInfoOf, podKey, stillDescribes } from './pod-info.js';
import { HARD_TAINT_EFFECTS } from './tolerations.js';
import type { PodInfo } from './pod-info.js';

const NO_NODES: ReadonlyMap<NodeInfo, number> = new Map();

interface PlacedPod {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

export class SchedulerCache implements ClusterView {
  private readonly nodes = new Map<string, NodeInfo>();
  private list: NodeInfo[] | undefined;
  private readonly placed = new Map<string, PlacedPod>();
  private readonly antiAffinityPods = new Map<string, PodInfo>();
  private readonly namespaces = new Map<string, Labels>();
  /** Controller owner uid → the nodes with pods of that owner → how many. */
  private readonly owners = new Map<string, Map<NodeInfo, number>>();
  readonly nodeCounts: NodeCounts = { cordoned: 0, notReady: 0, noScheduleTainted: 0, preferNoScheduleTainted: 0 };

  /** Nodes with a Node object, sorted by name (a stable order for the rotating start). */
  get nodeList(): readonly NodeInfo[] {
    this.list ??= [...this.nodes.values()].filter((n) => n.node).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.list;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    const info = this.nodes.get(name);
    return info?.node ? info : undefined;
  }

  namespaceLabels(namespace: string): Labels | undefined {
    return this.namespaces.get(namespace);
  }

  podsWithRequiredAntiAffinity(): Iterable<PodInfo> {
    return this.antiAffinityPods.values();
  }

  ownerPodsPerNode(ownerUid: string): ReadonlyMap<NodeInfo, number> {
    return this.owners.get(ownerUid) ?? NO_NODES;
  }

  nodeOfPod(key: string): NodeInfo | undefined {
    const placed = this.placed.get(key);
    return placed ? this.nodes.get(placed.node) : undefined;
  }

  isAssumed(key: string): boolean {
    return this.placed.get(key)?.assumed ?? false;
  }

  get podCount(): number {
    return this.placed.size;
  }

  // -------------------------------------------------------------------------------------------
  // Nodes and namespaces

  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodeEntry(name);
    if (info.node) this.countNode(info, -1);
    else this.list = undefined;
    info.setNode(node);
    this.countNode(info, +1);
  }

  deleteNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    if (info.node) this.countNode(info, -1);
    this.list = undefined;
    // Pods still bound to a deleted node keep their entry until they go (a ghost node).
    if (info.podCount === 0) this.nodes.delete(name);
    else info.node = undefined;
  }

  setNamespace(name: string, labels: Labels | undefined): void {
    this.namespaces.set(name, labels ?? {});
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  // -------------------------------------------------------------------------------------------
  // Pods

  /** A pod the API says is bound (confirms any assumption); terminal pods free their node. */
  /** Records a bound pod's new version; true when that changed what the scheduler accounts. */
  setBoundPod(pod: Pod): boolean {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isPodTerminal(pod)) return this.deletePod(key);
    const placed = this.placed.get(key);
    if (placed?.node === nodeName && stillDescribes(placed.info, pod)) {
      // A status write, or the binding we assumed: the node's totals already count this pod.
      placed.info.pod = pod;
      placed.assumed = false;
      return false;
    }
    this.place(podInfoOf(pod), nodeName, false);
    return true;
  }

  /** Forgets a pod; true when it was counted on a node. */
  deletePod(key: string): boolean {
    const placed = this.placed.get(key);
    if (!placed) return false;
    this.placed.delete(key);
    this.antiAffinityPods.delete(key);
    const node = this.nodes.get(placed.node);
    if (!node) return true;
    node.removePod(placed.info);
    this.countOwner(placed.info, node, -1);
    if (!node.node && node.podCount === 0) this.nodes.delete(placed.node);
    return true;
  }

  /** Counts the pod on `nodeName` before the binding is confirmed. */
  assume(info: PodInfo, nodeName: string): void {
    this.place(info, nodeName, true);
  }

  /** Drops an assumption whose binding failed (a confirmed binding is left alone). */
  forget(key: string): void {
    if (this.placed.get(key)?.assumed) this.deletePod(key);
  }

  private place(info: PodInfo, nodeName: string, assumed: boolean): void {
    const previous = this.placed.get(info.key);
    if (previous) this.deletePod(info.key);
    this.placed.set(info.key, { info, node: nodeName, assumed });
    const node = this.nodeEntry(nodeName);
    node.addPod(info);
    this.countOwner(info, node, +1);
    if (info.requiredAntiAffinity.length > 0) this.antiAffinityPods.set(info.key, info);
  }

  private countNode(info: NodeInfo, delta: number): void {
    const counts = this.nodeCounts;
    if (info.unschedulable) counts.cordoned += delta;
    if (info.ready !== 'True') counts.notReady += delta;
    if (info.taints.some((t) => HARD_TAINT_EFFECTS.includes(t.effect))) counts.noScheduleTainted += delta;
    if (info.taints.some((t) => t.effect === 'PreferNoSchedule')) counts.preferNoScheduleTainted += delta;
  }

  private countOwner(info: PodInfo, node: NodeInfo, delta: number): void {
    if (!info.ownerUid) return;
    let perNode = this.owners.get(info.ownerUid);
    if (!perNode) this.owners.set(info.ownerUid, (perNode = new Map()));
    const count = (perNode.get(node) ?? 0) + delta;
    if (count > 0) perNode.set(node, count);
    else perNode.delete(node);
    if (perNode.size === 0) this.owners.delete(info.ownerUid);
  }

  private nodeEntry(name: string): NodeInfo {
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo(name)));
    return info;
  }
}
