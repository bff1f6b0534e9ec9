// GET /api/v1/namespaces/{ns}/pods/{name}/log: chooses the container, validates the options as
// kube-apiserver validates PodLogOptions, and streams the logs from the agent of the pod's node
// (`/containerLogs/{ns}/{pod}/{container}`, kubelet's path), chunk by chunk, for as long as the
// agent sends and the client listens (`follow=true` ends when either side goes away).

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { badRequest, fieldError, invalid, StatusError } from '../../api/errors.js';
import type { FieldError } from '../../api/errors.js';
import type { AgentClient } from './agentclient.js';
import { boolParam } from '../../api/query.js';
import { agentEndpointOf, agentError } from './agentclient.js';
import type { Registry } from './registry/registry.js';

/** kubectl's annotation naming the container `kubectl logs` and `exec` use by default. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export interface PodLogsDependencies {
  pods(): Registry;
  nodes(): Registry;
  agents: AgentClient;
}

const BOOLEAN_PARAMS = ['follow', 'previous', 'timestamps'] as const;
const INTEGER_PARAMS = ['tailLines', 'sinceSeconds', 'limitBytes'] as const;

/**
 * The query for the agent: PodLogOptions checked with Kubernetes' rules (ValidatePodLogOptions),
 * in a canonical spelling. Throws 400 for what does not parse, 422 for what is out of range.
 */
export function agentLogQuery(podName: string, query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const name of BOOLEAN_PARAMS) {
    if (boolParam(query, name)) out.set(name, 'true');
  }
  const numbers: Partial<Record<(typeof INTEGER_PARAMS)[number], number>> = {};
  for (const name of INTEGER_PARAMS) {
    const raw = query.get(name);
    if (raw === null || raw === '') continue;
    if (!/^-?\d+$/.test(raw)) throw badRequest(`invalid value for ${name}: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
    numbers[name] = Number(raw);
  }
  const sinceTime = query.get('sinceTime') || undefined;
  if (sinceTime !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(sinceTime) || Number.isNaN(Date.parse(sinceTime)))) {
    throw badRequest(`invalid value for sinceTime: parsing time ${JSON.stringify(sinceTime)} as RFC 3339`);
  }
  const errs: FieldError[] = [];
  if (numbers.tailLines !== undefined && numbers.tailLines < 0) errs.push(fieldError.invalid('tailLines', numbers.tailLines, 'must be greater than or equal to 0'));
  if (numbers.limitBytes !== undefined && numbers.limitBytes < 1) errs.push(fieldError.invalid('limitBytes', numbers.limitBytes, 'must be greater than 0'));
  if (numbers.sinceSeconds !== undefined && sinceTime !== undefined) {
    errs.push(fieldError.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (numbers.sinceSeconds !== undefined && numbers.sinceSeconds < 1) {
    errs.push(fieldError.invalid('sinceSeconds', numbers.sinceSeconds, 'must be greater than 0'));
  }
  if (errs.length > 0) throw invalid({ group: '', kind: 'PodLogOptions' }, podName, errs);
  for (const [name, value] of Object.entries(numbers)) out.set(name, String(value));
  if (sinceTime !== undefined) out.set('sinceTime', new Date(sinceTime).toISOString());
  return out;
}

/**
 * The container a pod subresource (log, exec, attach) is for: the named one, else the annotated
 * default, else the only one. Kubernetes' messages (pod strategy LogLocation) when that is
 * ambiguous or wrong.
 */
export function containerOf(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const initContainers = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (requested) {
    if ([...containers, ...initContainers, ...ephemeral].includes(requested)) return requested;
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && containers.includes(annotated)) return annotated;
  if (containers.length === 1) return containers[0]!;
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
  if (initContainers.length > 0) message += ` or one of the init containers: [${initContainers.join(' ')}]`;
  if (ephemeral.length > 0) message += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
  throw badRequest(message);
}

export function podLogsHandler(deps: PodLogsDependencies) {
  return async (req: IncomingMessage, res: ServerResponse, namespace: string, name: string, query: URLSearchParams): Promise<void> => {
    const pod = (await deps.pods().get(namespace, name)) as Pod;
    const container = containerOf(pod, query.get('container') ?? undefined);
    const agentQuery = agentLogQuery(name, query);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const endpoint = agentEndpointOf((await deps.nodes().get(undefined, nodeName)) as Node);
    const path = `/containerLogs/${[namespace, name, container].map(encodeURIComponent).join('/')}${agentQuery.toString() ? `?${agentQuery}` : ''}`;

    // The client going away (Ctrl-C on `kubectl logs -f`) ends the request to the agent.
    const upstreamAbort = new AbortController();
    const stop = () => upstreamAbort.abort();
    res.once('close', stop);
    try {
      const upstream = await deps.agents.get(endpoint, path, upstreamAbort.signal);
      if (upstream.statusCode !== 200) throw agentError(upstream.statusCode, await upstream.body.text());
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
      res.flushHeaders();
      try {
        for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
          if (!res.write(chunk)) await once(res, 'drain', { signal: upstreamAbort.signal });
        }
        res.end();
      } catch {
        // The client left (we aborted) or the agent's stream broke mid-way: nothing can be sent
        // any more but the end of a truncated body.
        upstream.body.destroy();
        res.destroy();
      }
    } catch (err) {
      if (upstreamAbort.signal.aborted && !res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof StatusError) throw err;
      if (!res.headersSent) throw err;
    } finally {
      res.off('close', stop);
    }
  };
}
