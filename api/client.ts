// The REST client every Skiff component uses to talk to the API server (agent, controllers,
// scheduler, proxy, DNS): typed by ResourceType, errors as StatusError, watches as async
// iterables. HTTP through undici, one connection pool per client.

import { Agent } from './undici-core.js';
import type { Dispatcher } from './undici-core.js';
import { isStatus, StatusError } from './errors.js';
import { streamLines } from './lines.js';
import type { KubeconfigConnection } from './kubeconfig.js';
import type { KubeList, KubeObject, WatchEvent } from './objects.js';
import { resourcePath } from './resources.js';
import type { ResourceType } from './resources.js';

export interface ClientConfig {
  /** `https://host:port` of the API server. */
  server: string;
  token?: string;
  caPem?: string;
  insecureSkipTLSVerify?: boolean;
  userAgent?: string;
  /** Per-request timeout for non-watch calls: for the response's headers, then for each pause in its body. */
  requestTimeoutMs?: number;
  /** Sent with every request (e.g. the leader fence of a controller-manager). */
  headers?: Record<string, string>;
  /** Reach the server over this unix socket (plain HTTP; `server` is then e.g. http://localhost). */
  socketPath?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** True for the "object already gone" case that callers usually tolerate. */
export function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.code === 409 && err.reason === 'Conflict';
}

/** The group and resource a fenced write's 409 names: the writer's leader Lease, not the object written. */
export const FENCE_RESOURCE = { group: 'coordination.k8s.io', resource: 'leases' } as const;

/**
 * A write refused because the writer's leader Lease names another holder (the API's fence,
 * controlplane/apiserver/fence.ts): the writer is deposed, and reading the object again cannot
 * help.
 */
export function isFencedOut(err: unknown): boolean {
  return isConflict(err) && err instanceof StatusError && err.details?.group === FENCE_RESOURCE.group && err.details.kind === FENCE_RESOURCE.resource;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'AlreadyExists';
}

export class KubeClient {
  private readonly dispatcher: Dispatcher;
  private readonly headers: Record<string, string>;

  private readonly ownsDispatcher: boolean;

  constructor(
    readonly config: ClientConfig,
    shared?: Dispatcher,
  ) {
    this.ownsDispatcher = !shared;
    this.dispatcher =
      shared ??
      new Agent({
        connect: config.socketPath ? { socketPath: config.socketPath } : { ca: config.caPem, rejectUnauthorized: !config.insecureSkipTLSVerify },
        keepAliveTimeout: 30_000,
      });
    this.headers = { 'user-agent': config.userAgent ?? 'skiff/0.1.0', ...config.headers };
    if (config.token) this.headers['authorization'] = `Bearer ${config.token}`;
  }

  /** A client on the same connections that adds `headers` to every request. */
  withHeaders(headers: Record<string, string>): KubeClient {
    return new KubeClient({ ...this.config, headers: { ...this.config.headers, ...headers } }, this.dispatcher);
  }

  /**
   * A client whose writes commit only while `identity` holds the Lease `namespace/name`
   * (checked by the API server atomically with each write).
   */
  fenced(lease: { namespace: string; name: string }, identity: string): KubeClient {
    return this.withHeaders({ 'skiff-leader-lease': `${lease.namespace}/${lease.name}`, 'skiff-leader-identity': identity });
  }

  static fromConnection(connection: KubeconfigConnection, userAgent?: string): KubeClient {
    return new KubeClient({
      server: connection.server,
      token: connection.token,
      caPem: connection.caPem,
      insecureSkipTLSVerify: connection.insecureSkipTLSVerify,
      userAgent,
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** A raw request; the body is JSON-encoded unless it is a string. Non-2xx throws StatusError. */
  async request<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; accept?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { ...this.headers, accept: options.accept ?? 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    // The timeout is undici's own (for the headers, then for each pause in the body), not an
    // AbortSignal.timeout per request: that costs about 10 µs to make and keeps a timer and its
    // signal alive for the whole timeout, 60,000 of them at 2,000 requests/s.
    const timeoutMs = options.signal ? undefined : (this.config.requestTimeoutMs ?? 30_000);
    const res = await this.dispatcher.request({
      origin: this.config.server,
      path,
      method: method as Dispatcher.HttpMethod,
      headers,
      body,
      signal: options.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const contentType = String(res.headers['content-type'] ?? '');
      return (contentType.includes('json') ? JSON.parse(text) : text) as T;
    }
    throw statusErrorFrom(res.statusCode, text);
  }

  get<T extends KubeObject = KubeObject>(r: ResourceType, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    return this.request<T>('GET', resourcePath(r, namespace, name, subresource));
  }

  list<T extends KubeObject = KubeObject>(r: ResourceType, namespace?: string, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(r, namespace) + query({ ...options }));
  }

  /** Every item, following `continue` tokens; the result carries the first page's resourceVersion. */
  async listAll<T extends KubeObject = KubeObject>(r: ResourceType, namespace?: string, options: ListOptions = {}): Promise<KubeList<T>> {
    const first = await this.list<T>(r, namespace, { limit: 500, ...options });
    const items = [...first.items];
    let token = first.metadata.continue;
    while (token) {
      const page = await this.list<T>(r, namespace, { ...options, limit: options.limit ?? 500, continue: token, resourceVersion: undefined });
      items.push(...page.items);
      token = page.metadata.continue;
    }
    return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion }, items };
  }

  create<T extends KubeObject = KubeObject>(r: ResourceType, namespace: string | undefined, obj: T, options: WriteOptions = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(r, namespace) + writeQuery(options), { body: obj });
  }

  update<T extends KubeObject = KubeObject>(
    r: ResourceType,
    namespace: string | undefined,
    obj: T,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error('update needs metadata.name');
    return this.request<T>('PUT', resourcePath(r, namespace, name, options.subresource) + writeQuery(options), { body: obj });
  }

  updateStatus<T extends KubeObject = KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T> {
    return this.update(r, namespace, obj, { subresource: 'status' });
  }

  patch<T extends KubeObject = KubeObject>(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r, namespace, name, options.subresource) + writeQuery(options), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  delete(r: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
    if (options.propagationPolicy) body['propagationPolicy'] = options.propagationPolicy;
    if (options.preconditions) body['preconditions'] = options.preconditions;
    if (options.dryRun) body['dryRun'] = ['All'];
    return this.request<KubeObject>('DELETE', resourcePath(r, namespace, name), { body });
  }

  /**
   * A watch as an async iterable of events. Ends when the server ends the stream (timeout) or
   * `signal` aborts; an in-stream ERROR event is thrown as a StatusError (410 means: re-list).
   */
  async *watch<T extends KubeObject = KubeObject>(r: ResourceType, namespace: string | undefined, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...params } = options;
    const path = resourcePath(r, namespace) + query({ watch: 'true', ...params });
    const res = await this.dispatcher.request({
      origin: this.config.server,
      path,
      method: 'GET',
      headers: { ...this.headers, accept: 'application/json' },
      signal,
      bodyTimeout: 0,
    });
    if (res.statusCode !== 200) throw statusErrorFrom(res.statusCode, await res.body.text());
    try {
      for await (const line of streamLines(res.body)) {
        if (!line.trim()) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') throw StatusError.fromStatus(event.object);
        yield event;
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      res.body.destroy();
    }
  }
}

function writeQuery(options: WriteOptions): string {
  return query({ dryRun: options.dryRun ? 'All' : undefined, fieldManager: options.fieldManager });
}

function statusErrorFrom(code: number, text: string): StatusError {
  try {
    const body: unknown = JSON.parse(text);
    if (isStatus(body)) return StatusError.fromStatus(body);
  } catch {
    // not a Status: synthesise one from the code, as client-go does
  }
  const reason = code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'InternalError';
  return new StatusError(code, reason, text.trim() || `the server responded with status ${code}`);
}
