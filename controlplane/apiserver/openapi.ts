// The OpenAPI v3 documents of `GET /openapi/v3` and `/openapi/v3/api/v1`, `/openapi/v3/apis/<g>/<v>`.
// kubectl reads them for three things (research notes 5.1 and 5.2):
// - whether the server validates fields itself: it looks for the PATCH operation carrying the
//   kind's `x-kubernetes-group-version-kind` and checks that it declares the `fieldValidation`
//   query parameter (cli-runtime query_param_verifier_v3.go). Every PATCH operation of a kind
//   (the object's, /status's) declares it, because kubectl stops at whichever it meets first;
// - how to compute client-side apply patches: from the schema in `components.schemas` carrying
//   the kind's GVK, following `allOf: [{$ref}]` and reading x-kubernetes-patch-strategy and
//   x-kubernetes-patch-merge-key (apimachinery strategicpatch PatchMetaFromOpenAPIV3), but only
//   if the PATCH operation's requestBody lists application/strategic-merge-patch+json;
// - `kubectl explain`.
// Schemas are built from the type data (api/schema/types.json) and the patch strategy table,
// shaped like kube-apiserver's (IntOrString and Quantity as `oneOf`, references wrapped in allOf).
// Descriptions are left out: the type data carries none.
// Documents are built on first use and kept as JSON text with their hash.

import { createHash } from 'node:crypto';
import { RESOURCES, groupVersions, type GroupVersionKind, type ResourceType, type Subresource } from '../../api/resources.js';
import { definitionNameOfKind, schemaData } from '../../api/schema/definitions.js';
import type { Definition, FieldType } from '../../api/schema/model.js';
import { patchMetaOf } from '../../api/schema/patch-strategies.js';
import { SUPPORTED_PATCH_TYPES } from './patch/index.js';

type Schema = Record<string, unknown>;

const SCHEMA_REF = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
/** The request body schema of every PATCH operation, as in Kubernetes: any JSON object. */
const PATCH = `${META}.Patch`;

interface GroupVersion {
  group: string;
  version: string;
}

/** `api/v1` or `apis/apps/v1`: the key of a group version in the index. */
export function groupVersionPath(gv: GroupVersion): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
}

interface BuiltDocument {
  document: Schema;
  text: string;
  hash: string;
}

const built = new Map<string, BuiltDocument>();

function documentFor(path: string): BuiltDocument | undefined {
  const key = path.replace(/^\/+|\/+$/g, '');
  const cached = built.get(key);
  if (cached) return cached;
  const gv = groupVersions().find((candidate) => groupVersionPath(candidate) === key);
  if (!gv) return undefined;
  const document = buildDocument(gv);
  const text = JSON.stringify(document);
  const entry = { document, text, hash: createHash('sha512').update(text).digest('hex').toUpperCase() };
  built.set(key, entry);
  return entry;
}

/** `GET /openapi/v3`: one entry per served group version, its URL carrying the document's hash. */
export function openapiIndex(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const path = groupVersionPath(gv);
    const doc = documentFor(path);
    if (doc) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
  }
  return { paths };
}

/** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined if not served. */
export function openapiDocument(groupVersionPath: string): object | undefined {
  return documentFor(groupVersionPath)?.document;
}

/** The same document as JSON text, built once: what the handler should send. */
export function openapiDocumentText(groupVersionPath: string): string | undefined {
  return documentFor(groupVersionPath)?.text;
}

// ---------------------------------------------------------------------------------------------
// Documents

function buildDocument(gv: GroupVersion): Schema {
  const resources = RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version);
  const paths: Record<string, Schema> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: sortKeys(paths),
    components: {
      schemas: componentSchemas(referencedDefinitions(paths)),
      securitySchemes: {
        BearerToken: { type: 'apiKey', in: 'header', name: 'authorization', description: 'Bearer Token authentication' },
      },
    },
    security: [{ BearerToken: [] }],
  };
}

/** Every definition the paths refer to, and everything those refer to in turn. */
function referencedDefinitions(paths: Record<string, Schema>): Set<string> {
  const names = new Set<string>();
  const pending: string[] = [];
  JSON.stringify(paths, (key, value: unknown) => {
    if (key === '$ref' && typeof value === 'string') pending.push(value.slice(SCHEMA_REF.length));
    return value;
  });
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (names.has(name)) continue;
    names.add(name);
    const def = schemaData.definitions[name];
    if (def?.type === 'object') {
      for (const type of Object.values(def.properties)) collectReferences(type, pending);
    }
  }
  return names;
}

function collectReferences(type: FieldType, into: string[]): void {
  if (type.type === 'ref') into.push(type.ref);
  else if (type.type === 'array') collectReferences(type.items, into);
  else if (type.type === 'map') collectReferences(type.values, into);
}

function componentSchemas(names: Set<string>): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  for (const name of [...names].sort()) {
    if (name === PATCH) {
      schemas[name] = { type: 'object' };
      continue;
    }
    const def = schemaData.definitions[name];
    if (def) schemas[name] = definitionSchema(name, def);
  }
  return schemas;
}

function definitionSchema(name: string, def: Definition): Schema {
  switch (def.type) {
    case 'date-time':
      return { type: 'string', format: 'date-time' };
    case 'int-or-string':
      // Kubernetes' v3 shape, plus the structural-schema marker CRDs use for the same type.
      return { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
    case 'quantity':
      return { oneOf: [{ type: 'string' }, { type: 'number' }] };
    case 'free-form':
      return { type: 'object' };
    case 'object': {
      const properties: Record<string, Schema> = {};
      for (const [property, type] of Object.entries(def.properties)) properties[property] = propertySchema(name, property, type);
      const schema: Schema = { type: 'object', properties };
      if (def.required) schema.required = def.required;
      if (def.gvk) schema['x-kubernetes-group-version-kind'] = def.gvk;
      return schema;
    }
  }
}

function propertySchema(owner: string, property: string, type: FieldType): Schema {
  const schema = typeSchema(type);
  const meta = patchMetaOf(owner, property);
  if (meta) {
    if (meta.listType) schema['x-kubernetes-list-type'] = meta.listType;
    if (meta.listMapKeys) schema['x-kubernetes-list-map-keys'] = [...meta.listMapKeys];
    if (meta.mergeKey) schema['x-kubernetes-patch-merge-key'] = meta.mergeKey;
    schema['x-kubernetes-patch-strategy'] = meta.strategy;
  }
  return schema;
}

function typeSchema(type: FieldType): Schema {
  switch (type.type) {
    case 'string':
      return type.format ? { type: 'string', format: type.format } : { type: 'string' };
    case 'integer':
      return { type: 'integer', format: type.format };
    case 'number':
      return type.format ? { type: 'number', format: type.format } : { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'ref':
      // Wrapped like kube-apiserver does, so that extensions can sit beside the reference.
      return { allOf: [ref(type.ref)] };
    case 'array':
      return { type: 'array', items: typeSchema(type.items) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(type.values) };
  }
}

function ref(name: string): Schema {
  return { $ref: `${SCHEMA_REF}${name}` };
}

// ---------------------------------------------------------------------------------------------
// Paths

function queryParam(name: string, type: 'string' | 'boolean' | 'integer', description: string): Schema {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

function pathParam(name: string, description: string): Schema {
  return { name, in: 'path', required: true, description, schema: { type: 'string', uniqueItems: true } };
}

const P = {
  pretty: queryParam('pretty', 'string', 'If true, the output is pretty printed.'),
  name: pathParam('name', 'name of the object'),
  namespace: pathParam('namespace', 'object name and auth scope, such as for teams and projects'),
  allowWatchBookmarks: queryParam('allowWatchBookmarks', 'boolean', 'Request BOOKMARK watch events.'),
  continue: queryParam('continue', 'string', 'The continue token of the previous page of a paginated list.'),
  fieldSelector: queryParam('fieldSelector', 'string', 'Restrict the returned objects by their fields.'),
  labelSelector: queryParam('labelSelector', 'string', 'Restrict the returned objects by their labels.'),
  limit: queryParam('limit', 'integer', 'The maximum number of objects to return in one page.'),
  resourceVersion: queryParam('resourceVersion', 'string', 'The resource version the request may be served from.'),
  resourceVersionMatch: queryParam('resourceVersionMatch', 'string', 'How resourceVersion applies to a list.'),
  sendInitialEvents: queryParam('sendInitialEvents', 'boolean', 'Begin a watch with synthetic events for the current objects.'),
  timeoutSeconds: queryParam('timeoutSeconds', 'integer', 'Timeout for the list or watch call.'),
  watch: queryParam('watch', 'boolean', 'Watch for changes to the described resources.'),
  dryRun: queryParam('dryRun', 'string', 'When "All", modifications are validated but not persisted.'),
  fieldManager: queryParam('fieldManager', 'string', 'The name of the actor making the changes.'),
  fieldValidation: queryParam(
    'fieldValidation',
    'string',
    'How the server treats unknown fields in the request body: Ignore (drop them), Warn (drop them with a ' +
      'Warning header, the default) or Strict (fail the request).',
  ),
  force: queryParam('force', 'boolean', 'Force apply requests (server-side apply is not supported yet).'),
  gracePeriodSeconds: queryParam('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted.'),
  orphanDependents: queryParam('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  propagationPolicy: queryParam('propagationPolicy', 'string', 'Orphan, Background or Foreground garbage collection of dependents.'),
};

const LIST_PARAMS = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [
  P.continue,
  P.dryRun,
  P.fieldSelector,
  P.gracePeriodSeconds,
  P.labelSelector,
  P.limit,
  P.orphanDependents,
  P.propagationPolicy,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
];
const LOG_PARAMS = [
  queryParam('container', 'string', 'The container to stream logs of.'),
  queryParam('follow', 'boolean', 'Follow the log stream.'),
  queryParam('insecureSkipTLSVerifyBackend', 'boolean', 'Skip verifying the serving certificate of the backend.'),
  queryParam('limitBytes', 'integer', 'The number of bytes to read before stopping.'),
  queryParam('previous', 'boolean', 'Return the logs of the previous, terminated container.'),
  queryParam('sinceSeconds', 'integer', 'Only logs newer than this many seconds.'),
  queryParam('tailLines', 'integer', 'The number of lines from the end of the log to show.'),
  queryParam('timestamps', 'boolean', 'Prefix every line with an RFC 3339 timestamp.'),
];
const STREAM_PARAMS = [
  queryParam('container', 'string', 'The container in the pod; defaults to the only container, or the default-container annotation.'),
  queryParam('stderr', 'boolean', 'Redirect the standard error stream of the pod for this call.'),
  queryParam('stdin', 'boolean', 'Redirect the standard input stream of the pod for this call.'),
  queryParam('stdout', 'boolean', 'Redirect the standard output stream of the pod for this call.'),
  queryParam('tty', 'boolean', 'Allocate a terminal for this call.'),
];
const EXEC_PARAMS = [queryParam('command', 'string', 'The command to run; one parameter per argument.'), ...STREAM_PARAMS];
const PORT_FORWARD_PARAMS = [queryParam('ports', 'integer', 'The pod ports to forward.')];
/** Connect operations answer with an upgraded connection; the documented body is a string. */
const CONNECT_RESPONSES = { '200': { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } }, '401': { description: 'Unauthorized' } };

function jsonContent(schema: Schema): Schema {
  return { 'application/json': { schema }, 'application/yaml': { schema } };
}

function responses(definitionName: string, codes: readonly string[]): Schema {
  const descriptions: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
  const out: Schema = {};
  for (const code of codes) out[code] = { description: descriptions[code] ?? code, content: jsonContent(ref(definitionName)) };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

function bodyOf(definitionName: string, required = true): Schema {
  return { content: { '*/*': { schema: ref(definitionName) } }, required };
}

const PATCH_BODY: Schema = {
  content: Object.fromEntries(SUPPORTED_PATCH_TYPES.map((type) => [type, { schema: ref(PATCH) }])),
  required: true,
};

interface Names {
  /** `CoreV1`, `AppsV1`: the group version as operation ids spell it. */
  id: string;
  tag: string;
  /** `Namespaced` or ``. */
  scope: string;
}

function namesOf(r: ResourceType): Names {
  const groupWord = r.group ? (r.group.split('.')[0] ?? r.group) : 'core';
  const capitalised = groupWord.charAt(0).toUpperCase() + groupWord.slice(1);
  const version = r.version.charAt(0).toUpperCase() + r.version.slice(1);
  return { id: `${capitalised}${version}`, tag: `${groupWord}_${r.version}`, scope: r.namespaced ? 'Namespaced' : '' };
}

function operation(
  names: Names,
  operationId: string,
  action: string,
  gvk: GroupVersionKind,
  description: string,
  parts: { parameters?: Schema[]; requestBody?: Schema; responses: Schema },
): Schema {
  const op: Schema = { operationId, description };
  if (parts.parameters && parts.parameters.length > 0) op.parameters = parts.parameters;
  if (parts.requestBody) op.requestBody = parts.requestBody;
  op.responses = parts.responses;
  op.tags = [names.tag];
  op['x-kubernetes-action'] = action;
  op['x-kubernetes-group-version-kind'] = { group: gvk.group, version: gvk.version, kind: gvk.kind };
  return op;
}

function definitionOf(gvk: GroupVersionKind): string {
  const name = definitionNameOfKind(gvk);
  if (!name) throw new Error(`no type data for ${gvk.group}/${gvk.version} ${gvk.kind}; regenerate api/schema/types.json`);
  return name;
}

function resourcePaths(r: ResourceType): Record<string, Schema> {
  const names = namesOf(r);
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const kindDef = definitionOf(gvk);
  const listDef = definitionOf({ ...gvk, kind: `${r.kind}List` });
  const verbs = new Set(r.verbs);
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const collection = `${prefix}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
  const item = `${collection}/{name}`;
  const scopeParams = r.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  const paths: Record<string, Schema> = {};
  const suffix = `${names.id}${names.scope}${r.kind}`;

  const collectionOps: Schema = { parameters: scopeParams };
  if (verbs.has('list')) {
    collectionOps.get = operation(names, `list${suffix}`, 'list', gvk, `list or watch ${r.kind} objects`, {
      parameters: LIST_PARAMS,
      responses: responses(listDef, ['200']),
    });
  }
  if (verbs.has('create')) {
    collectionOps.post = operation(names, `create${suffix}`, 'post', gvk, `create a ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: bodyOf(kindDef),
      responses: responses(kindDef, ['200', '201', '202']),
    });
  }
  if (verbs.has('deletecollection')) {
    collectionOps.delete = operation(names, `delete${names.id}Collection${names.scope}${r.kind}`, 'deletecollection', gvk, `delete a collection of ${r.kind} objects`, {
      parameters: DELETE_COLLECTION_PARAMS,
      requestBody: bodyOf(DELETE_OPTIONS, false),
      responses: responses(STATUS, ['200']),
    });
  }
  paths[collection] = collectionOps;

  if (r.namespaced && verbs.has('list')) {
    paths[`${prefix}/${r.plural}`] = {
      parameters: [P.pretty],
      get: operation(names, `list${names.id}${r.kind}ForAllNamespaces`, 'list', gvk, `list or watch ${r.kind} objects in all namespaces`, {
        parameters: LIST_PARAMS,
        responses: responses(listDef, ['200']),
      }),
    };
  }

  const itemOps: Schema = { parameters: [P.name, ...scopeParams] };
  if (verbs.has('get')) {
    itemOps.get = operation(names, `read${suffix}`, 'get', gvk, `read the specified ${r.kind}`, { responses: responses(kindDef, ['200']) });
  }
  if (verbs.has('update')) {
    itemOps.put = operation(names, `replace${suffix}`, 'put', gvk, `replace the specified ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: bodyOf(kindDef),
      responses: responses(kindDef, ['200', '201']),
    });
  }
  if (verbs.has('patch')) {
    itemOps.patch = operation(names, `patch${suffix}`, 'patch', gvk, `partially update the specified ${r.kind}`, {
      parameters: PATCH_PARAMS,
      requestBody: PATCH_BODY,
      responses: responses(kindDef, ['200', '201']),
    });
  }
  if (verbs.has('delete')) {
    itemOps.delete = operation(names, `delete${suffix}`, 'delete', gvk, `delete a ${r.kind}`, {
      parameters: DELETE_PARAMS,
      requestBody: bodyOf(DELETE_OPTIONS, false),
      responses: responses(STATUS, ['200', '202']),
    });
  }
  paths[item] = itemOps;

  for (const sub of r.subresources) paths[`${item}/${sub.name}`] = subresourcePath(r, names, sub, scopeParams);
  return paths;
}

function subresourcePath(r: ResourceType, names: Names, sub: Subresource, scopeParams: Schema[]): Schema {
  const gvk = sub.kind ?? { group: r.group, version: r.version, kind: r.kind };
  const subName = sub.name.charAt(0).toUpperCase() + sub.name.slice(1);
  const suffix = `${names.id}${names.scope}${r.kind}${subName}`;
  const ops: Schema = { parameters: [pathParam('name', `name of the ${gvk.kind}`), ...scopeParams] };
  if (sub.connect) {
    const parameters = sub.name === 'exec' ? EXEC_PARAMS : sub.name === 'portforward' ? PORT_FORWARD_PARAMS : STREAM_PARAMS;
    for (const [method, verb] of [['get', 'Get'], ['post', 'Post']] as const) {
      ops[method] = operation(names, `connect${names.id}${verb}${names.scope}${r.kind}${subName}`, 'connect', gvk, `connect ${verb.toUpperCase()} requests to ${sub.name} of ${r.kind}`, {
        parameters,
        responses: CONNECT_RESPONSES,
      });
    }
    return ops;
  }
  const def = definitionOf(gvk);

  if (sub.name === 'log') {
    ops.get = operation(names, `read${suffix}`, 'get', gvk, `read the log of the specified ${r.kind}`, {
      parameters: LOG_PARAMS,
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': { description: 'Unauthorized' } },
    });
    return ops;
  }
  const verbs = new Set(sub.verbs);
  if (verbs.has('get')) {
    ops.get = operation(names, `read${suffix}`, 'get', gvk, `read ${sub.name} of the specified ${r.kind}`, { responses: responses(def, ['200']) });
  }
  if (verbs.has('create')) {
    ops.post = operation(names, `create${suffix}`, 'post', gvk, `create ${sub.name} of a ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: bodyOf(def),
      responses: responses(def, ['200', '201', '202']),
    });
  }
  if (verbs.has('update')) {
    ops.put = operation(names, `replace${suffix}`, 'put', gvk, `replace ${sub.name} of the specified ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: bodyOf(def),
      responses: responses(def, ['200', '201']),
    });
  }
  if (verbs.has('patch')) {
    ops.patch = operation(names, `patch${suffix}`, 'patch', gvk, `partially update ${sub.name} of the specified ${r.kind}`, {
      parameters: PATCH_PARAMS,
      requestBody: PATCH_BODY,
      responses: responses(def, ['200', '201']),
    });
  }
  return ops;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * `GET /openapi/v2`, which kubectl only ever asks for as protobuf (gnostic's openapi.v2.Document).
 * kubectl falls back to it to validate kinds that the v3 documents do not describe; an empty
 * document (no paths, no definitions) makes it skip client-side validation for them, so an unknown
 * kind gets kubectl's usual "no matches for kind" answer instead of a failed download. Every kind
 * Skiff serves is validated by the server (the v3 documents declare fieldValidation).
 */
// Asked for as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, but answered as
// octet-stream: Go's mime parser (client-go) rejects the '@' in a response Content-Type.
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/octet-stream';

export function openapiV2Protobuf(): Buffer {
  const field = (number: number, payload: Buffer) => Buffer.concat([Buffer.from([(number << 3) | 2, payload.length]), payload]);
  const text = (number: number, value: string) => field(number, Buffer.from(value, 'utf8'));
  const info = Buffer.concat([text(1, 'Kubernetes'), text(2, 'v1.32.0')]);
  // Document: swagger = 1, info = 2, paths = 8 (an empty Paths message).
  return Buffer.concat([text(1, '2.0'), field(2, info), field(8, Buffer.alloc(0))]);
}
