// The API server: Kubernetes' REST API over the Store, driven by the real kubectl and client
// libraries. One HTTPS listener serves discovery, OpenAPI, health, metrics and every resource.

import { chmod, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Duplex } from 'node:stream';
import { badRequest, internalError, notFound, StatusError, unauthorized } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { serveUpgrade } from '../../api/upgrade.js';
import { findResource, RESOURCES } from '../../api/resources.js';
import type { ResourceType } from '../../api/resources.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Store } from '../store/store.js';
import { firstServiceIp, parsePortRange, ServiceAllocator } from './allocator.js';
import { bootstrap, defaultServiceAccountOp } from './bootstrap.js';
import { applyDefaults } from './defaults/index.js';
import { addDefaultTolerations } from './defaults/tolerations.js';
import type { DefaultTolerationSeconds } from './defaults/tolerations.js';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, Discovery, wantsAggregated } from './discovery.js';
import { fenceFromRequest } from './fence.js';
import { handleResource } from './handlers/resources.js';
import type { ResourceHandlerOptions } from './handlers/resources.js';
import { sendError, sendJson, sendText } from './http.js';
import { ApiServerMetrics, instrumentStore } from './metrics.js';
import { OPENAPI_V2_PROTOBUF_TYPE, openapiDocumentText, openapiIndex, openapiV2Protobuf } from './openapi.js';
import { storagePrefix } from './registry/codec.js';
import { Registry } from './registry/registry.js';
import type { RegistryHooks } from './registry/registry.js';
import { strategyFor } from './registry/strategy.js';
import { STREAMING_SUBRESOURCES } from './podstreams.js';
import type { PodStreamsHandler } from './podstreams.js';
import { parseRequestInfo } from './requestinfo.js';
import type { RequestInfo } from './requestinfo.js';
import { validateCreate, validateStatusUpdate, validateUpdate } from './validation/index.js';
import { WatchCache } from './watchcache.js';
import { CreateAdmission } from './admission/index.js';
import { NamespacePolicies } from './admission/policies.js';

/** Who made a request, as the authenticator established it. */
export interface User {
  name: string;
  groups: string[];
}

export type Authenticator = (authorization: string | undefined) => User | undefined;

/**
 * What another part of the control plane adds to the API server: more users (per-node
 * credentials), an authorizer, admission of new objects, and endpoints outside the registries
 * (the join flow, metrics.k8s.io, pods/log). See nodeextension.ts.
 */
export interface ApiServerExtension {
  /** Answers requests that need no credentials (e.g. the CA bundle a joining agent fetches); true when handled. */
  serveUnauthenticated?(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Users the bearer-token authenticator does not know. */
  authenticate?(authorization: string | undefined): Promise<User | undefined>;
  /** Serves an authenticated request outside the registries, authorizing it itself; true when handled. */
  serve?(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, user: User): Promise<boolean>;
  /** Throws a Forbidden StatusError when `user` may not make the request. */
  authorize?(user: User, request: RequestInfo, query: URLSearchParams): Promise<void>;
  /** Admission of a new object after defaulting: throws a Forbidden StatusError to refuse it. */
  admitCreate?(user: User, resource: ResourceType, obj: KubeObject): void;
  /** Resources of API groups served by `serve`, listed in discovery. */
  discoveryResources?: readonly ResourceType[];
  podLogs?: ResourceHandlerOptions['podLogs'];
  /** pods/exec, pods/attach and pods/portforward: upgraded connections to the pod's agent. */
  podStreams?: PodStreamsHandler;
}

export interface ApiServerOptions {
  store: Store;
  bindAddress?: string;
  port?: number;
  /** Serve HTTPS with this certificate; plain HTTP when absent (tests only). */
  tls?: { certPem: string; keyPem: string };
  authenticate: Authenticator;
  /**
   * Also serve the API, as plain HTTP, on this unix socket: the in-process controller-manager's
   * way in, without TLS on either side of a loopback connection. Authentication still applies;
   * the socket is created mode 0600 in the (0700) data directory.
   */
  loopbackSocketPath?: string;
  /** The address clients inside the cluster use for the API (the `kubernetes` Endpoints). */
  advertiseAddress?: string;
  serviceCidr?: string;
  nodePortRange?: string;
  bookmarkIntervalMs?: number;
  /**
   * How often history is compacted; each compaction forgets what is older than the previous
   * one, so at least one interval of history is kept (kube-apiserver: 5 minutes). 0: never.
   */
  compactionIntervalMs?: number;
  logger?: Logger;
  podLogs?: ResourceHandlerOptions['podLogs'];
  /** Built once the server exists (it may use the server's registries). */
  extension?: (server: ApiServer) => ApiServerExtension;
  /** Tolerations of the not-ready/unreachable taints added to pods (DefaultTolerationSeconds; 300 s). */
  defaultTolerationSeconds?: DefaultTolerationSeconds;
}

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+skiff.0.1.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-22T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const UNAUTHENTICATED_PATHS = new Set(['/livez', '/readyz', '/healthz']);
const CRD_LIST_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function resourceLabel(r: ResourceType, subresource?: string): string {
  const base = r.group ? `${r.plural}.${r.group}` : r.plural;
  return subresource ? `${base}/${subresource}` : base;
}

export class ApiServer {
  readonly metrics: ApiServerMetrics;
  readonly logger: Logger;
  readonly allocator: ServiceAllocator;
  private readonly store: Store;
  private readonly caches = new Map<string, WatchCache>();
  private readonly registries = new Map<string, Registry>();
  private readonly discovery: Discovery;
  private readonly http: HttpServer;
  private readonly loopback: HttpServer | undefined;
  private readonly handlerOptions: ResourceHandlerOptions;
  private readonly extension: ApiServerExtension;
  private ready = false;
  private compactor: NodeJS.Timeout | undefined;
  /** The namespaces' LimitRanges and ResourceQuotas, for admission of creates. */
  private readonly policies: NamespacePolicies;
  private readonly admission: CreateAdmission;

  private constructor(private readonly options: ApiServerOptions) {
    this.logger = options.logger ?? pino({ name: 'apiserver' });
    this.metrics = new ApiServerMetrics(() => {
      const counts = new Map<string, number>();
      for (const [prefix, cache] of this.caches) counts.set(prefix.split('/').slice(2, 4).join('/'), cache.watcherCount);
      return counts;
    });
    this.store = instrumentStore(options.store, this.metrics);
    this.extension = options.extension?.(this) ?? {};
    this.allocator = new ServiceAllocator(this.store, options.serviceCidr ?? '10.43.0.0/16', parsePortRange(options.nodePortRange ?? '30000-32767'));
    const hooks = this.hooks();
    for (const r of RESOURCES) {
      const prefix = storagePrefix(r);
      let cache = this.caches.get(prefix);
      if (!cache) {
        cache = new WatchCache(this.store, prefix, {}, (err) => this.logger.error({ err, prefix }, 'watch cache restarted'));
        this.caches.set(prefix, cache);
      }
      this.registries.set(`${r.group}/${r.version}/${r.plural}`, new Registry(r, this.store, strategyFor(r), cache, hooks));
    }
    const quotas = this.registry('', 'resourcequotas');
    this.policies = new NamespacePolicies(this.registry('', 'limitranges'), quotas, this.logger);
    this.admission = new CreateAdmission(this.policies, quotas);
    this.discovery = new Discovery([...RESOURCES, ...(this.extension.discoveryResources ?? [])], () => `${this.options.advertiseAddress ?? '127.0.0.1'}:${this.port}`);
    this.handlerOptions = {
      registryFor: (r) => this.registryFor(r),
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      fenceFor: (req) => fenceFromRequest(req, this.registry('coordination.k8s.io', 'leases')),
      podLogs: options.podLogs ?? this.extension.podLogs,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(req, socket, head);
    this.http = options.tls
      ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler)
      : createHttpServer(handler);
    if (options.loopbackSocketPath) this.loopback = createHttpServer(handler);
    for (const server of [this.http, this.loopback]) {
      if (!server) continue;
      // Watches are long-lived; kube-apiserver has no socket timeout either.
      server.requestTimeout = 0;
      server.keepAliveTimeout = 65_000;
      server.on('upgrade', upgrade);
    }
  }

  /** Starts caches, creates the cluster's built-in objects, then listens. */
  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const server = new ApiServer(options);
    await Promise.all([...server.caches.values()].map((c) => c.start()));
    await server.policies.start();
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(options.port ?? 6443, options.bindAddress ?? '0.0.0.0', () => {
        server.http.off('error', reject);
        resolve();
      });
    });
    if (server.loopback && options.loopbackSocketPath) {
      const path = options.loopbackSocketPath;
      await rm(path, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.loopback!.once('error', reject);
        server.loopback!.listen(path, () => resolve());
      });
      await chmod(path, 0o600);
    }
    await bootstrap({
      registry: (group, plural) => server.registryFor(findResource(group, 'v1', plural)!),
      serviceIp: firstServiceIp(server.allocator.range),
      advertiseAddress: options.advertiseAddress ?? '127.0.0.1',
      port: server.port,
    });
    server.startCompaction(options.compactionIntervalMs ?? 5 * 60_000);
    server.ready = true;
    return server;
  }

  private startCompaction(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let previous = 0;
    this.compactor = setInterval(() => {
      void (async () => {
        const current = await this.store.currentRevision();
        if (previous > 0) await this.store.compact(previous);
        this.logger.debug({ compactedTo: previous, current }, 'compacted store history');
        previous = current;
      })().catch((err: unknown) => this.logger.error({ err }, 'compaction failed'));
    }, intervalMs);
    this.compactor.unref();
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? this.options.port ?? 6443;
  }

  get url(): string {
    const host = this.options.bindAddress && this.options.bindAddress !== '0.0.0.0' ? this.options.bindAddress : '127.0.0.1';
    return `${this.options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  registryFor(r: ResourceType): Registry {
    const registry = this.registries.get(`${r.group}/${r.version}/${r.plural}`);
    if (!registry) throw new Error(`no registry for ${r.group}/${r.version}/${r.plural}`);
    return registry;
  }

  /** Direct access for in-process components (and tests): the registry of a group/plural. */
  registry(group: string, plural: string): Registry {
    const r = RESOURCES.find((x) => x.group === group && x.plural === plural);
    if (!r) throw new Error(`unknown resource ${group}/${plural}`);
    return this.registryFor(r);
  }

  async close(): Promise<void> {
    this.ready = false;
    if (this.compactor) clearInterval(this.compactor);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    if (this.loopback) {
      const loopback = this.loopback;
      const loopbackClosed = new Promise<void>((resolve) => loopback.close(() => resolve()));
      loopback.closeAllConnections();
      await loopbackClosed;
    }
    await this.policies.stop();
    await Promise.all([...this.caches.values()].map((c) => c.stop()));
    await closed;
  }

  private hooks(): RegistryHooks {
    const namespaces = () => this.registry('', 'namespaces');
    return {
      applyDefaults: (resource, obj) => {
        applyDefaults(resource, obj);
        // Admission (DefaultTolerationSeconds) runs where defaulting does: on pod create and update.
        if (resource.group === '' && resource.plural === 'pods') addDefaultTolerations(obj, this.options.defaultTolerationSeconds);
      },
      validateCreate: (resource, obj, requester) => {
        if (requester) this.extension.admitCreate?.(requester, resource, obj);
        return validateCreate(resource, obj);
      },
      // LimitRanger and ResourceQuota admission (admission/).
      mutateCreate: (resource, obj) => this.admission.mutate(resource, obj),
      admitCreate: (resource, obj, fresh) => this.admission.admit(resource, obj, fresh),
      validateUpdate,
      validateStatusUpdate,
      // NamespaceLifecycle admission. Like kube-apiserver's, it reads the namespace from a cache
      // (the watch cache's copy; the store when the cache has none, e.g. a namespace just made):
      // an object created in the instant a namespace starts terminating is removed by the
      // namespace controller, which deletes until the namespace is empty.
      checkNamespaceForCreate: async (namespace) => {
        const isTerminating = (ns: KubeObject & { status?: { phase?: string } }) => !!ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating';
        const cached = namespaces().recent(undefined, namespace);
        let terminating: boolean;
        if (cached) {
          terminating = isTerminating(cached.object);
        } else {
          const kv = await namespaces().getStored(undefined, namespace);
          if (!kv) throw notFound({ group: '', resource: 'namespaces' }, namespace);
          terminating = isTerminating(JSON.parse(kv.value) as KubeObject);
        }
        if (terminating) throw Registry.namespaceTerminating(namespaces().resource, namespace);
      },
      allocate: async (resource, obj, old) =>
        resource.group === '' && resource.plural === 'services' ? this.allocator.allocate(obj as Service, old as Service | undefined) : [],
      release: (resource, obj) => (resource.group === '' && resource.plural === 'services' ? this.allocator.release(obj as Service) : []),
      companions: (resource, obj) =>
        resource.group === '' && resource.plural === 'namespaces' ? [defaultServiceAccountOp(obj.metadata!.name!)] : [],
    };
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    let verb = req.method?.toLowerCase() ?? 'get';
    let resource = 'nonresource';
    let streaming = false;
    try {
      if (UNAUTHENTICATED_PATHS.has(path)) {
        if (!this.ready && path !== '/livez') return sendText(res, 500, 'text/plain', 'not ready');
        return sendText(res, 200, 'text/plain; charset=utf-8', 'ok');
      }
      if (await this.extension.serveUnauthenticated?.(req, res, path)) return;
      const user = await this.authenticate(req);
      if (await this.extension.serve?.(req, res, path, url.searchParams, user)) return;
      const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
      if (info.type === 'resource') {
        verb = info.verb;
        resource = resourceLabel(info.resource, info.subresource);
      }
      await this.extension.authorize?.(user, info, url.searchParams);
      if (info.type === 'resource') {
        streaming = info.verb === 'watch' || (info.subresource === 'log' && url.searchParams.get('follow') === 'true');
        await handleResource(this.handlerOptions, req, res, info, url.searchParams, user);
      } else if (info.type === 'unknown-resource' && req.method === 'GET' && path === CRD_LIST_PATH) {
        // kubectl's validation looks up CRDs for kinds it does not know before giving its
        // "no matches for kind" error; Skiff has no custom resources, and says so with an
        // empty list (the group is not in discovery, so `kubectl get crd` reports it unknown).
        sendJson(res, 200, {
          kind: 'CustomResourceDefinitionList',
          apiVersion: 'apiextensions.k8s.io/v1',
          metadata: { resourceVersion: String(await this.store.currentRevision()) },
          items: [],
        });
      } else if (info.type === 'unknown-resource') {
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
      } else {
        await this.handleNonResource(req, res, path, url.searchParams);
      }
    } catch (err) {
      const status = err instanceof StatusError ? err : internalError(err);
      if (!(err instanceof StatusError)) this.logger.error({ err, method: req.method, url: req.url }, 'request failed');
      sendError(res, status);
    } finally {
      this.metrics.requests.inc({ verb, resource, code: String(res.statusCode) });
      if (!streaming) {
        this.metrics.requestDuration.observe({ verb, resource }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
  }

  /** The user behind a request's credentials; 401 when there is none. */
  private async authenticate(req: IncomingMessage): Promise<User> {
    const user = this.options.authenticate(req.headers.authorization) ?? (await this.extension.authenticate?.(req.headers.authorization));
    if (!user) throw unauthorized();
    return user;
  }

  /**
   * Requests that ask to switch protocols: pods/exec, pods/attach and pods/portforward (connect
   * verbs). Anything else is refused with a Status; Skiff serves no other upgrade.
   */
  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let resource = 'nonresource';
    const code = await serveUpgrade(
      socket,
      async () => {
        const user = await this.authenticate(req);
        const info = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
        if (info.type !== 'resource' || !info.name || !info.subresource || !STREAMING_SUBRESOURCES.has(info.subresource) || info.resource.plural !== 'pods') {
          throw badRequest(`${url.pathname} does not upgrade connections: only pods/exec, pods/attach and pods/portforward do`);
        }
        resource = resourceLabel(info.resource, info.subresource);
        await this.extension.authorize?.(user, info, url.searchParams);
        if (!this.extension.podStreams) throw new StatusError(405, 'MethodNotAllowed', `pods/${info.subresource} is not available: no agent endpoint is configured`);
        await this.extension.podStreams(req, socket, head, { namespace: info.namespace!, name: info.name, subresource: info.subresource, query: url.searchParams });
      },
      (err) => this.logger.error({ err, method: req.method, url: req.url }, 'upgrade request failed'),
    );
    this.metrics.requests.inc({ verb: 'connect', resource, code: String(code) });
  }

  private async handleNonResource(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new StatusError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${path}`);
    const accept = req.headers.accept;
    const notFoundError = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    switch (path) {
      case '/version':
        return sendJson(res, 200, VERSION_INFO);
      case '/api':
        return wantsAggregated(accept)
          ? sendText(res, 200, AGGREGATED_DISCOVERY_CONTENT_TYPE, this.discovery.aggregated('api'))
          : sendText(res, 200, 'application/json', this.discovery.apiVersions());
      case '/apis':
        return wantsAggregated(accept)
          ? sendText(res, 200, AGGREGATED_DISCOVERY_CONTENT_TYPE, this.discovery.aggregated('apis'))
          : sendText(res, 200, 'application/json', this.discovery.apiGroupList());
      case '/metrics':
        return sendText(res, 200, this.metrics.registry.contentType, await this.metrics.registry.metrics());
      case '/openapi/v3':
        return sendJson(res, 200, openapiIndex());
      case '/openapi/v2':
        return sendText(res, 200, OPENAPI_V2_PROTOBUF_TYPE, openapiV2Protobuf());
      default:
        break;
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const doc = openapiDocumentText(parts.slice(2).join('/'));
      if (doc === undefined) throw notFoundError();
      res.setHeader('Cache-Control', query.has('hash') ? 'public, immutable' : 'no-cache');
      return sendText(res, 200, 'application/json', doc);
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const list = this.discovery.apiResourceList('', parts[1]!);
      if (list) return sendText(res, 200, 'application/json', list);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const group = this.discovery.apiGroupDocument(parts[1]!);
      if (group) return sendText(res, 200, 'application/json', group);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const list = this.discovery.apiResourceList(parts[1]!, parts[2]!);
      if (list) return sendText(res, 200, 'application/json', list);
    }
    throw notFoundError();
  }
}

export { hostname };
