// metrics.k8s.io/v1beta1, the Resource Metrics API that `kubectl top` reads (metrics-server's job
// in Kubernetes): NodeMetrics and PodMetrics, list and get, built on demand from each agent's
// `/stats/summary` (CPU in nanocores averaged over the agent's sampling window, memory as working
// set), with a short cache so that repeated `kubectl top` calls do not fan out every time.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { forbidden, methodNotAllowed, notFound, StatusError } from '../../api/errors.js';
import { parseLabelSelector } from '../../api/labels.js';
import type { KubeObject } from '../../api/objects.js';
import { formatQuantity, Quantity } from '../../api/quantity.js';
import type { ResourceType } from '../../api/resources.js';
import type { AgentClient } from './agentclient.js';
import { agentEndpointOf } from './agentclient.js';
import { sendJson } from './http.js';
import { isAdmin } from './nodeauth.js';
import type { Registry } from './registry/registry.js';
import type { User } from './server.js';
import { kubeTime } from '../../api/time.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;
const PREFIX = `/apis/${METRICS_GROUP}/${METRICS_VERSION}/`;

function metricsResource(kind: string, plural: string, namespaced: boolean): ResourceType {
  // As metrics-server lists them: read-only, no singular name, no subresources.
  return { group: METRICS_GROUP, version: METRICS_VERSION, kind, plural, singular: '', namespaced, shortNames: [], categories: [], verbs: ['get', 'list'], subresources: [] };
}

/** The group's resources, for discovery (kubectl top refuses to run unless it sees them). */
export const METRICS_RESOURCES: readonly ResourceType[] = [metricsResource('NodeMetrics', 'nodes', false), metricsResource('PodMetrics', 'pods', true)];

/**
 * What an agent's `/stats/summary` answers: a subset of kubelet's Summary API (stats/v1alpha1)
 * plus `windowSeconds`, the interval the usage rates were averaged over. The agent's side of this
 * contract is agent/server/summary.ts.
 */
export interface AgentSummary {
  node: {
    nodeName: string;
    windowSeconds: number;
    cpu: { time: string; usageNanoCores: number };
    memory: { time: string; workingSetBytes: number };
  };
  pods: {
    podRef: { name: string; namespace: string };
    containers: { name: string; cpu: { time: string; usageNanoCores: number }; memory: { time: string; workingSetBytes: number } }[];
  }[];
}

export interface MetricsApiDependencies {
  nodes(): Registry;
  pods(): Registry;
  agents: AgentClient;
  /** How long one agent's summary is reused (default 5 s). */
  cacheMs?: number;
  /** How long to wait for an agent (default 5 s). */
  agentTimeoutMs?: number;
}

function cpuQuantity(nanoCores: number): string {
  return formatQuantity(Quantity.fromNanos(BigInt(Math.max(0, Math.round(nanoCores))), 'DecimalSI'));
}

function memoryQuantity(bytes: number): string {
  return formatQuantity(Quantity.fromValue(BigInt(Math.max(0, Math.round(bytes))), 'BinarySI'));
}

/** Go's time.Duration String() for a metav1.Duration field: `10s`, `1.5s`, `1m0s`. */
export function goDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const minutes = Math.floor(ms / 60_000);
  const rest = (ms % 60_000) / 1000;
  const secondsText = `${Number(rest.toFixed(3))}s`;
  if (minutes === 0) return secondsText;
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${minutes % 60}m${secondsText}` : `${minutes}m${secondsText}`;
}

function metricsMetadata(obj: KubeObject): Record<string, unknown> {
  const meta: Record<string, unknown> = { name: obj.metadata?.name, creationTimestamp: kubeTime() };
  if (obj.metadata?.namespace) meta['namespace'] = obj.metadata.namespace;
  if (obj.metadata?.labels) meta['labels'] = obj.metadata.labels;
  return meta;
}

interface Route {
  namespace?: string;
  resource: 'nodes' | 'pods';
  name?: string;
}

/** `/apis/metrics.k8s.io/v1beta1/...` split into what it addresses; undefined for other paths. */
function routeOf(path: string): Route | undefined | 'unknown' {
  if (!path.startsWith(PREFIX)) return undefined;
  const parts = path.slice(PREFIX.length).split('/').map(decodeURIComponent);
  if (parts[0] === 'nodes' && parts.length <= 2) return { resource: 'nodes', name: parts[1] };
  if (parts[0] === 'pods' && parts.length === 1) return { resource: 'pods' };
  if (parts[0] === 'namespaces' && parts[1] && parts[2] === 'pods' && parts.length <= 4) return { resource: 'pods', namespace: parts[1], name: parts[3] };
  return 'unknown';
}

export class MetricsApi {
  private readonly summaries = new Map<string, { at: number; summary: Promise<AgentSummary> }>();

  constructor(private readonly deps: MetricsApiDependencies) {}

  /** Serves the group's resource paths; true when the request was for one of them. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, user: User): Promise<boolean> {
    const route = routeOf(path);
    if (route === undefined) return false;
    if (route === 'unknown') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    const verb = route.name ? 'get' : query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    if (!isAdmin(user)) {
      const scope = route.namespace ? `in the namespace "${route.namespace}"` : 'at the cluster scope';
      throw forbidden({ group: METRICS_GROUP, resource: route.resource }, route.name ?? '', `User "${user.name}" cannot ${verb} resource "${route.resource}" in API group "${METRICS_GROUP}" ${scope}`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(`${req.method ?? ''} is not supported on ${route.resource}.${METRICS_GROUP}`);
    if (verb === 'watch') throw methodNotAllowed(`watch is not supported on ${route.resource}.${METRICS_GROUP}`);
    const selector = parseLabelSelector(query.get('labelSelector') ?? '');
    const matches = (obj: KubeObject) => selector.matches(obj.metadata?.labels);
    if (route.resource === 'nodes') {
      if (route.name) sendJson(res, 200, await this.nodeMetrics(route.name));
      else sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: await this.nodeMetricsList(matches) });
    } else if (route.name) {
      sendJson(res, 200, await this.podMetrics(route.namespace!, route.name));
    } else {
      sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items: await this.podMetricsList(route.namespace, matches) });
    }
    return true;
  }

  /** One agent's summary, shared by concurrent callers and reused for `cacheMs`. */
  private summaryOf(node: Node): Promise<AgentSummary> {
    const name = node.metadata?.name ?? '';
    const cached = this.summaries.get(name);
    if (cached && Date.now() - cached.at < (this.deps.cacheMs ?? 5_000)) return cached.summary;
    const summary = (async () => {
      const endpoint = agentEndpointOf(node);
      return this.deps.agents.getJson<AgentSummary>(endpoint, '/stats/summary', AbortSignal.timeout(this.deps.agentTimeoutMs ?? 5_000));
    })();
    this.summaries.set(name, { at: Date.now(), summary });
    summary.catch(() => this.summaries.delete(name));
    return summary;
  }

  private nodeMetricsFrom(node: Node, summary: AgentSummary): Record<string, unknown> {
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: metricsMetadata(node as KubeObject),
      timestamp: summary.node.cpu.time,
      window: goDuration(summary.node.windowSeconds),
      usage: { cpu: cpuQuantity(summary.node.cpu.usageNanoCores), memory: memoryQuantity(summary.node.memory.workingSetBytes) },
    };
  }

  private async nodeMetrics(name: string): Promise<Record<string, unknown>> {
    const missing = () => notFound({ group: METRICS_GROUP, resource: 'nodemetrics' }, name);
    const node = (await this.deps.nodes().get(undefined, name).catch(() => undefined)) as Node | undefined;
    if (!node) throw missing();
    const summary = await this.summaryOf(node).catch(() => undefined);
    if (!summary) throw missing();
    return this.nodeMetricsFrom(node, summary);
  }

  private async nodeMetricsList(matches: (obj: KubeObject) => boolean): Promise<Record<string, unknown>[]> {
    const nodes = (await this.deps.nodes().list(undefined, { filter: matches })).items as Node[];
    // As metrics-server does, a node whose agent cannot be reached is left out, not an error.
    const results = await Promise.allSettled(nodes.map(async (node) => this.nodeMetricsFrom(node, await this.summaryOf(node))));
    return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  private podMetricsFrom(pod: Pod, summary: AgentSummary): Record<string, unknown> | undefined {
    const stats = summary.pods.find((p) => p.podRef.namespace === pod.metadata?.namespace && p.podRef.name === pod.metadata?.name);
    if (!stats || stats.containers.length === 0) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: metricsMetadata(pod as KubeObject),
      timestamp: stats.containers[0]!.cpu.time,
      window: goDuration(summary.node.windowSeconds),
      containers: stats.containers.map((c) => ({
        name: c.name,
        usage: { cpu: cpuQuantity(c.cpu.usageNanoCores), memory: memoryQuantity(c.memory.workingSetBytes) },
      })),
    };
  }

  private async podMetrics(namespace: string, name: string): Promise<Record<string, unknown>> {
    // metrics-server names a missing pod's metrics `<namespace>/<name>`.
    const missing = () => notFound({ group: METRICS_GROUP, resource: 'podmetrics' }, `${namespace}/${name}`);
    const pod = (await this.deps.pods().get(namespace, name).catch(() => undefined)) as Pod | undefined;
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) throw missing();
    const node = (await this.deps.nodes().get(undefined, nodeName).catch(() => undefined)) as Node | undefined;
    const summary = node && (await this.summaryOf(node).catch(() => undefined));
    const metrics = summary && this.podMetricsFrom(pod, summary);
    if (!metrics) throw missing();
    return metrics;
  }

  private async podMetricsList(namespace: string | undefined, matches: (obj: KubeObject) => boolean): Promise<Record<string, unknown>[]> {
    const pods = ((await this.deps.pods().list(namespace, { filter: matches })).items as Pod[]).filter((p) => p.spec?.nodeName);
    const nodeNames = [...new Set(pods.map((p) => p.spec!.nodeName!))];
    const summaries = new Map<string, AgentSummary>();
    await Promise.all(
      nodeNames.map(async (nodeName) => {
        const node = (await this.deps.nodes().get(undefined, nodeName).catch(() => undefined)) as Node | undefined;
        const summary = node && (await this.summaryOf(node).catch(() => undefined));
        if (summary) summaries.set(nodeName, summary);
      }),
    );
    return pods.flatMap((pod) => {
      const summary = summaries.get(pod.spec!.nodeName!);
      const metrics = summary && this.podMetricsFrom(pod, summary);
      return metrics ? [metrics] : [];
    });
  }
}
