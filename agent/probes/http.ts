// httpGet probes: a GET to the pod IP (or httpGet.host) through undici; a status code from 200
// to 399 is success, as in Kubernetes. The kubelet does not reuse probe connections (each
// request closes its connection) and does not verify HTTPS certificates.

import type { Container, HTTPGetAction } from 'kubernetes-types/core/v1.js';
import { Agent } from '../../api/undici-core.js';
import type { ProbeOutcome } from './outcome.js';
import { resolvePort } from './outcome.js';

const dispatcher = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 1, pipelining: 0 });

export const PROBE_USER_AGENT = 'kube-probe/1.32';

export function probeUrl(action: HTTPGetAction, container: Container, podIp: string): string {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || podIp;
  const port = resolvePort(action.port, container);
  let path = action.path ?? '/';
  if (!path.startsWith('/')) path = `/${path}`;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

export async function httpProbe(action: HTTPGetAction, container: Container, podIp: string, timeoutMs: number): Promise<ProbeOutcome> {
  const url = probeUrl(action, container, podIp);
  const headers: Record<string, string> = { 'user-agent': PROBE_USER_AGENT, accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  try {
    const { origin, pathname, search } = new URL(url);
    const res = await dispatcher.request({ origin, path: pathname + search, method: 'GET', headers, reset: true, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.body.text().catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 400) return { result: 'success', output: body.slice(0, 10 * 1024) };
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.statusCode}` };
  } catch (err) {
    return { result: 'failure', output: `Get "${url}": ${goNetError(err, new URL(url).host)}` };
  }
}

/** A connection error worded as Go's net/http words it (what kubelet events show). */
function goNetError(err: unknown, hostPort: string): string {
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  if (e.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
  }
  if (code === 'ECONNREFUSED') return `dial tcp ${hostPort}: connect: connection refused`;
  if (code === 'EHOSTUNREACH') return `dial tcp ${hostPort}: connect: no route to host`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'read: connection reset by peer';
  return e.cause?.message ?? e.message;
}
