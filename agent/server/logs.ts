// GET /containerLogs/{namespace}/{pod}/{container}: kubelet's path for container logs, which the
// API server's pods/log proxies to. The query carries PodLogOptions (the API server has already
// validated them, see controlplane/apiserver/podlogs.ts); the logs stream from the runtime's
// ContainerLogSource for as long as it sends and the caller listens.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { badRequest } from '../../api/errors.js';
import { boolParam } from '../../api/query.js';
import type { ContainerLogOptions, ContainerLogSource } from '../interfaces.js';

export const CONTAINER_LOGS_PREFIX = '/containerLogs/';

function nonNegativeInt(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function parseLogOptions(query: URLSearchParams): ContainerLogOptions {
  const options: ContainerLogOptions = {};
  const follow = boolParam(query, 'follow');
  const previous = boolParam(query, 'previous');
  const timestamps = boolParam(query, 'timestamps');
  const tailLines = nonNegativeInt(query, 'tailLines');
  const sinceSeconds = nonNegativeInt(query, 'sinceSeconds');
  const limitBytes = nonNegativeInt(query, 'limitBytes');
  const sinceTime = query.get('sinceTime') || undefined;
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime))) throw badRequest(`invalid value for sinceTime: ${JSON.stringify(sinceTime)}`);
  if (follow !== undefined) options.follow = follow;
  if (previous !== undefined) options.previous = previous;
  if (timestamps !== undefined) options.timestamps = timestamps;
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (sinceSeconds !== undefined) options.sinceSeconds = sinceSeconds;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (sinceTime !== undefined) options.sinceTime = sinceTime;
  return options;
}

/** `{namespace, pod, container}` of a containerLogs path, or undefined when it is malformed. */
export function containerOfPath(path: string): { namespace: string; pod: string; container: string } | undefined {
  const parts = path.slice(CONTAINER_LOGS_PREFIX.length).split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [namespace, pod, container] = parts.map(decodeURIComponent) as [string, string, string];
  return { namespace, pod, container };
}

/** Streams the logs; a StatusError before the first byte is the caller's to send. */
export async function serveContainerLogs(
  source: ContainerLogSource,
  req: IncomingMessage,
  res: ServerResponse,
  target: { namespace: string; pod: string; container: string },
  query: URLSearchParams,
): Promise<void> {
  const options = parseLogOptions(query);
  const abort = new AbortController();
  const stop = () => abort.abort();
  res.once('close', stop);
  try {
    const stream = await source.logs(target.namespace, target.pod, target.container, options, abort.signal);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    try {
      await pipeline(stream, res);
    } catch {
      // The caller went away, or the source broke off: the body simply ends.
      res.destroy();
    }
  } finally {
    res.off('close', stop);
    abort.abort();
  }
}
