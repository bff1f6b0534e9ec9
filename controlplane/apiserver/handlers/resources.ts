// The REST verbs on resources: one function per verb, each a thin translation between HTTP
// (query parameters, bodies, content negotiation) and the registry.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Binding } from 'kubernetes-types/core/v1.js';
import { badRequest, conflict, fieldError, invalid, methodNotAllowed } from '../../../api/errors.js';
import { STREAMING_SUBRESOURCES } from '../podstreams.js';
import type { Status } from '../../../api/errors.js';
import { parseFieldSelector } from '../../../api/fields.js';
import { parseLabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { resourceFor } from '../../../api/resources.js';
import type { GroupVersionKind, ResourceType } from '../../../api/resources.js';
import { addWarnings, decodeObject, EncodedJson, isPlainJson, negotiate, readBody, readBodyBytes, sendJson, sendObject } from '../http.js';
import type { ResponseFormat } from '../http.js';
import { applyPatch } from '../patch/index.js';
import { parseResourceVersion } from '../registry/codec.js';
import type { DeleteOptions, Fence, ListQuery, Registry } from '../registry/registry.js';
import type { User } from '../auth.js';
import type { ResourceRequest } from '../requestinfo.js';
import { checkTypeMeta, dryRunParam, readObject } from './incoming.js';
import { enforcePatchedFieldValidation, parseFieldValidation, patchStrictErrors } from '../fieldvalidation.js';
import { includeObjectParam, renderList, renderObject } from './render.js';
import { evict } from './eviction.js';
import { getScale, scaleFromBody, setScale, SCALE_GVK } from './scale.js';
import { serveWatch } from './watch.js';
import { kubeTime } from '../../../api/time.js';

export interface ResourceHandlerOptions {
  registryFor(resource: ResourceType): Registry;
  bookmarkIntervalMs: number;
  /** The leader-lease precondition a request carries, if any (see ../fence.ts). */
  fenceFor(req: IncomingMessage): Fence | undefined;
  /** Serves pods/log (the agent issue); undefined until the server can reach agents. */
  podLogs?: (req: IncomingMessage, res: ServerResponse, namespace: string, name: string, query: URLSearchParams) => Promise<void>;
}

function gvkOf(r: ResourceType): GroupVersionKind {
  return { group: r.group, version: r.version, kind: r.kind };
}

/** Label and field selectors of a list or watch as one predicate (undefined: everything). */
function selectorFilter(registry: Registry, query: URLSearchParams): ((obj: KubeObject) => boolean) | undefined {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
  if (!fields.empty) {
    // Which fields a kind supports is fixed: ask the strategy with an empty object.
    const allowed = new Set(Object.keys(registry.strategy.selectableFields({ metadata: {} })));
    const unsupported = fields.unsupportedFields(allowed);
    if (unsupported.length > 0) throw badRequest(`field label not supported: ${unsupported[0]}`);
  }
  if (labels.empty && fields.empty) return undefined;
  return (obj) =>
    labels.matches(obj.metadata?.labels) && (fields.empty || fields.matches(registry.strategy.selectableFields(obj)));
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`invalid ${name}: ${JSON.stringify(raw)} is not an integer`);
  return Number(raw);
}

function successStatus(code: number, details?: Status['details']): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) status.details = details;
  return status;
}

export async function handleResource(
  options: ResourceHandlerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  info: ResourceRequest,
  query: URLSearchParams,
  requester: User,
): Promise<void> {
  const { resource, namespace, name, subresource } = info;
  const registry = options.registryFor(resource);
  const accept = req.headers.accept;
  const includeObject = includeObjectParam(query.get('includeObject'));
  const warnings: string[] = [];
  const dryRun = dryRunParam(query.getAll('dryRun'));
  const fence = info.verb === 'get' || info.verb === 'list' || info.verb === 'watch' ? undefined : options.fenceFor(req);
  const gvk = gvkOf(resource);
  // kube-apiserver's answer to a plain request for a connect subresource.
  if (subresource !== undefined && STREAMING_SUBRESOURCES.has(subresource)) throw badRequest('Upgrade request required');

  switch (info.verb) {
    case 'get': {
      if (subresource === 'log') {
        if (!options.podLogs) throw methodNotAllowed('pods/log is not available: no agent endpoint is configured');
        return options.podLogs(req, res, namespace!, name!, query);
      }
      if (subresource === 'scale') {
        const scale = getScale(await registry.get(namespace, name!));
        return sendObject(res, 200, scale, negotiate(accept, { tableAllowed: false }));
      }
      const format = negotiate(accept, { tableAllowed: true });
      if (isPlainJson(format)) {
        const got = await registry.getJson(namespace, name!);
        return sendJson(res, 200, typeof got === 'string' ? new EncodedJson(got) : got);
      }
      const obj = await registry.get(namespace, name!);
      return sendObject(res, 200, renderObject(resource, obj, format, includeObject), format);
    }

    case 'list': {
      const format = negotiate(accept, { tableAllowed: true });
      const listQuery: ListQuery = {
        filter: selectorFilter(registry, query),
        limit: intParam(query, 'limit'),
        continueToken: query.get('continue') ?? undefined,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
        encoded: isPlainJson(format),
        shared: true,
      };
      const result = await registry.list(namespace, listQuery);
      return sendObject(res, 200, renderList(resource, result, format, includeObject), format);
    }

    case 'watch': {
      const format = negotiate(accept, { tableAllowed: true });
      const rv = query.get('resourceVersion') ?? undefined;
      if (Number.isNaN(parseResourceVersion(rv))) throw badRequest(`invalid resourceVersion: ${JSON.stringify(rv)}`);
      const timeoutSeconds = intParam(query, 'timeoutSeconds');
      return serveWatch(
        req,
        res,
        registry,
        namespace,
        { filter: selectorFilter(registry, query), resourceVersion: rv, sendInitialEvents: query.get('sendInitialEvents') === 'true' },
        {
          format,
          includeObject,
          allowBookmarks: query.get('allowWatchBookmarks') === 'true',
          // kube-apiserver picks a random duration in [minRequestTimeout, 2×) when none is asked.
          timeoutSeconds: timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : 1800 + Math.floor(Math.random() * 1800),
          bookmarkIntervalMs: options.bookmarkIntervalMs,
        },
      );
    }

    case 'create': {
      if (subresource === 'binding') return bind(registry, req, res, namespace!, name!, query, fence);
      if (subresource === 'eviction') {
        const budgets = options.registryFor(resourceFor('policy', 'poddisruptionbudgets'));
        return evict({ pods: registry, budgets }, req, res, namespace!, name!, query, fence);
      }
      if (subresource) throw methodNotAllowed(`create is not supported on ${resource.plural}/${subresource}`);
      const obj = await readObject(req, gvk, query, warnings, 'CreateOptions');
      if (name !== undefined) throw methodNotAllowed('POST requires a collection URL');
      const created = await registry.create(namespace, obj, { dryRun, fence, requester });
      addWarnings(res, warnings);
      const format = negotiate(accept, { tableAllowed: false });
      return sendObject(res, 201, asServed(registry, created, format), format);
    }

    case 'update': {
      const format = negotiate(accept, { tableAllowed: false });
      if (subresource === 'scale') {
        const body = await readObject(req, SCALE_GVK, query, warnings, 'UpdateOptions');
        const { replicas, resourceVersion } = scaleFromBody(body);
        const updated = await setScale(registry, namespace, name!, replicas, resourceVersion, { dryRun, fence });
        addWarnings(res, warnings);
        return sendObject(res, 200, getScale(updated), format);
      }
      const obj = await readObject(req, gvk, query, warnings, 'UpdateOptions');
      const { object, created } = await registry.update(namespace, name!, obj, { dryRun, subresource, fence });
      addWarnings(res, warnings);
      return sendObject(res, created ? 201 : 200, asServed(registry, object, format), format);
    }

    case 'patch': {
      const format = negotiate(accept, { tableAllowed: false });
      const body = await readBody(req);
      const contentType = req.headers['content-type'] ?? '';
      const mode = parseFieldValidation(query.get('fieldValidation'), 'PatchOptions');
      const patchErrors = patchStrictErrors(contentType, body, mode);
      if (subresource === 'scale') {
        const current = await registry.get(namespace, name!);
        const patched = applyPatch(contentType, SCALE_GVK, getScale(current) as KubeObject, body);
        warnings.push(...enforcePatchedFieldValidation(SCALE_GVK, patched, mode, patchErrors));
        const { replicas, resourceVersion } = scaleFromBody(patched);
        const updated = await setScale(registry, namespace, name!, replicas, resourceVersion, { dryRun, fence });
        addWarnings(res, warnings);
        return sendObject(res, 200, getScale(updated), format);
      }
      const patchedObject = await registry.patch(
        namespace,
        name!,
        (current) => {
          const patched = applyPatch(contentType, gvk, current, body);
          checkTypeMeta(gvk, patched);
          warnings.splice(0, warnings.length, ...enforcePatchedFieldValidation(gvk, patched, mode, patchErrors));
          return patched;
        },
        { dryRun, subresource, fence },
      );
      addWarnings(res, warnings);
      return sendObject(res, 200, asServed(registry, patchedObject, format), format);
    }

    case 'delete': {
      const deleteOptions = { ...(await readDeleteOptions(req, query, dryRun)), fence };
      const { object, deleted } = await registry.delete(namespace, name!, deleteOptions);
      const format = negotiate(accept, { tableAllowed: false });
      if (!deleted) {
        // Still there (finalizers, graceful pod deletion): the client sees deletionTimestamp.
        return sendObject(res, deleteOptions.orphanDependentsFalse ? 202 : 200, object, format);
      }
      if (registry.strategy.returnDeletedObject) return sendObject(res, 200, object, format);
      return sendJson(res, 200, successStatus(200, { name: name!, group: resource.group, kind: resource.plural, uid: object.metadata?.uid }));
    }

    case 'deletecollection': {
      const deleteOptions = { ...(await readDeleteOptions(req, query, dryRun)), fence };
      const items = await registry.deleteCollection(namespace, { filter: selectorFilter(registry, query) }, deleteOptions);
      const format = negotiate(accept, { tableAllowed: false });
      return sendObject(res, 200, renderList(resource, { items, resourceVersion: '' }, format, includeObject), format);
    }
  }
}

/**
 * What to send for an object the registry just returned: its JSON text as stored (with the
 * resourceVersion spliced in) when the client wants plain JSON and the registry has it, so the
 * object is not serialised a second time.
 */
function asServed(registry: Registry, obj: unknown, format: ResponseFormat): unknown {
  if (!isPlainJson(format)) return obj;
  const text = registry.encoded(obj as KubeObject);
  return text === undefined ? obj : new EncodedJson(text);
}

async function readDeleteOptions(
  req: IncomingMessage,
  query: URLSearchParams,
  dryRun: boolean,
): Promise<DeleteOptions & { orphanDependentsFalse: boolean }> {
  const body = await readBodyBytes(req);
  let fromBody: Record<string, unknown> = {};
  if (body.toString('utf8').trim().length > 0) fromBody = decodeObject(body, req.headers['content-type'], 'DeleteOptions');
  const grace = intParam(query, 'gracePeriodSeconds') ?? (fromBody['gracePeriodSeconds'] as number | undefined);
  const policy = query.get('propagationPolicy') ?? (fromBody['propagationPolicy'] as string | undefined);
  const orphanRaw = query.get('orphanDependents') ?? fromBody['orphanDependents'];
  const orphan = orphanRaw === undefined || orphanRaw === null ? undefined : String(orphanRaw) === 'true';
  const bodyDryRun = Array.isArray(fromBody['dryRun']) ? dryRunParam(fromBody['dryRun'] as string[]) : false;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) {
    throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [fieldError.invalid('gracePeriodSeconds', grace, 'must be greater than or equal to 0')]);
  }
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
      fieldError.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan']),
    ]);
  }
  if (policy !== undefined && orphan !== undefined) {
    throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
      fieldError.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'),
    ]);
  }
  const options: DeleteOptions & { orphanDependentsFalse: boolean } = {
    dryRun: dryRun || bodyDryRun,
    orphanDependentsFalse: orphan === false,
  };
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  if (policy !== undefined) options.propagationPolicy = policy;
  else if (orphan === true) options.propagationPolicy = 'Orphan';
  const pre = fromBody['preconditions'] as DeleteOptions['preconditions'] | undefined;
  if (pre) options.preconditions = pre;
  return options;
}

/**
 * POST pods/{name}/binding: sets spec.nodeName once. The write is a compare-and-swap on the
 * pod's resourceVersion, so two schedulers can never bind one pod twice.
 */
async function bind(
  registry: Registry,
  req: IncomingMessage,
  res: ServerResponse,
  namespace: string,
  name: string,
  query: URLSearchParams,
  fence: Fence | undefined,
): Promise<void> {
  const warnings: string[] = [];
  const binding = (await readObject(req, { group: '', version: 'v1', kind: 'Binding' }, query, warnings, 'CreateOptions')) as Binding & KubeObject;
  const target = binding.target?.name;
  if (!target) throw invalid({ group: '', kind: 'Binding' }, binding.metadata?.name ?? name, [fieldError.required('target.name')]);
  if (binding.target.kind && binding.target.kind !== 'Node') {
    throw invalid({ group: '', kind: 'Binding' }, name, [fieldError.notSupported('target.kind', binding.target.kind, ['Node'])]);
  }
  const gr = { group: '', resource: 'pods/binding' };
  await registry.mutate(
    namespace,
    name,
    (pod) => {
      const spec = (pod['spec'] ?? {}) as { nodeName?: string };
      if (pod.metadata?.deletionTimestamp) throw conflict(gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (spec.nodeName) throw conflict(gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      const status = (pod['status'] ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string | null; lastProbeTime?: null }[] };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() });
      const annotations = { ...pod.metadata?.annotations, ...binding.metadata?.annotations };
      return {
        ...pod,
        metadata: { ...pod.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
        spec: { ...spec, nodeName: target },
        status: { ...status, conditions },
      };
    },
    { dryRun: dryRunParam(query.getAll('dryRun')), fence },
  );
  addWarnings(res, warnings);
  sendJson(res, 201, successStatus(201));
}

