// The OpenAPI v3 documents kubectl downloads: the index, the PATCH operations it inspects to
// decide whether the server validates fields, and schemas it can compute apply patches from.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RESOURCES, groupVersions } from '../../api/resources.js';
import { groupVersionPath, openapiDocument, openapiDocumentText, openapiIndex } from '../../controlplane/apiserver/openapi.js';

type Json = Record<string, unknown>;

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, unknown> };
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
}

function doc(path: string): { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, Json> } } {
  const d = openapiDocument(path);
  assert.ok(d, path);
  return d as ReturnType<typeof doc>;
}

function patchOperations(path: string): [string, Operation][] {
  return Object.entries(doc(path).paths).flatMap(([p, item]) => (item.patch ? [[p, item.patch as Operation] as [string, Operation]] : []));
}

function collectRefs(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) collectRefs(v, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.push(v);
      else collectRefs(v, into);
    }
  }
  return into;
}

/** Follows a property the way apimachinery's PatchMetaFromOpenAPIV3 does: allOf[0], then $ref. */
function resolve(schemas: Record<string, Json>, schema: Json): Json {
  let s = schema;
  const allOf = s.allOf as Json[] | undefined;
  if (allOf?.[0]) s = allOf[0];
  const ref = s.$ref as string | undefined;
  if (ref) {
    const target = schemas[ref.replace('#/components/schemas/', '')];
    assert.ok(target, ref);
    s = target;
  }
  return s;
}

function property(schemas: Record<string, Json>, schema: Json, name: string): Json {
  const props = schema.properties as Record<string, Json> | undefined;
  assert.ok(props?.[name], `no property ${name}`);
  return props[name];
}

describe('openapi index', () => {
  test('lists every served group version with a hashed URL', () => {
    const index = openapiIndex();
    assert.deepEqual(Object.keys(index.paths).sort(), groupVersions().map(groupVersionPath).sort());
    assert.ok(index.paths['api/v1'] && index.paths['apis/apps/v1']);
    for (const [path, entry] of Object.entries(index.paths)) {
      assert.match(entry.serverRelativeURL, new RegExp(`^/openapi/v3/${path.replace(/\./g, '\\.')}\\?hash=[0-9A-F]{128}$`));
    }
    assert.deepEqual(openapiIndex(), index, 'hashes are stable');
  });

  test('documents are served by group-version path, and only for served ones', () => {
    assert.ok(openapiDocument('api/v1'));
    assert.ok(openapiDocument('/apis/apps/v1'));
    // autoscaling/v1 is served for HorizontalPodAutoscalers (Scale alone would not make it a group version).
    assert.ok(openapiDocument('apis/autoscaling/v1'));
    assert.ok(openapiDocument('apis/policy/v1'));
    assert.equal(openapiDocument('apis/rbac.authorization.k8s.io/v1'), undefined);
    assert.equal(openapiDocument('apis/nope/v1'), undefined);
    assert.deepEqual(JSON.parse(openapiDocumentText('apis/apps/v1') ?? ''), openapiDocument('apis/apps/v1'));
  });
});

describe('openapi documents', () => {
  const paths = groupVersions().map(groupVersionPath);

  test('are OpenAPI 3.0 documents whose $refs all resolve', () => {
    for (const path of paths) {
      const d = doc(path) as unknown as Json;
      assert.equal(d.openapi, '3.0.0');
      for (const r of collectRefs(d)) {
        assert.ok(r.startsWith('#/components/schemas/'), r);
        assert.ok(doc(path).components.schemas[r.slice('#/components/schemas/'.length)], `${path}: ${r} does not resolve`);
      }
    }
  });

  test('every PATCH operation carries its GVK and the fieldValidation, dryRun, fieldManager and force query parameters', () => {
    for (const path of paths) {
      const ops = patchOperations(path);
      assert.ok(ops.length > 0, path);
      for (const [p, op] of ops) {
        assert.ok(op['x-kubernetes-group-version-kind'], p);
        for (const name of ['fieldValidation', 'dryRun', 'fieldManager', 'force']) {
          assert.ok(op.parameters?.some((param) => param.name === name && param.in === 'query'), `${p}: ${name}`);
        }
        assert.ok(op.requestBody?.content?.['application/strategic-merge-patch+json'], p);
        assert.ok(op.requestBody?.content?.['application/merge-patch+json'], p);
        assert.ok(op.requestBody?.content?.['application/json-patch+json'], p);
        assert.equal(op.requestBody?.content?.['application/apply-patch+yaml'], undefined, p);
      }
    }
  });

  test('kubectl finds a PATCH operation and a schema for every served kind (query_param_verifier_v3, patcher.go)', () => {
    for (const r of RESOURCES) {
      const path = groupVersionPath(r);
      const gvk = { group: r.group, version: r.version, kind: r.kind };
      const ops = patchOperations(path).filter(([, op]) => JSON.stringify(op['x-kubernetes-group-version-kind']) === JSON.stringify(gvk));
      assert.ok(ops.length > 0, `no PATCH operation for ${r.kind}`);
      const schemas = Object.values(doc(path).components.schemas).filter((s) =>
        (s['x-kubernetes-group-version-kind'] as (typeof gvk)[] | undefined)?.some(
          (g) => g.group === r.group && g.version === r.version && g.kind === r.kind,
        ),
      );
      assert.equal(schemas.length, 1, `one schema for ${r.kind}`);
    }
  });

  test('has the expected paths for a namespaced resource and its subresources', () => {
    const apps = doc('apis/apps/v1').paths;
    const deployments = apps['/apis/apps/v1/namespaces/{namespace}/deployments'];
    assert.ok(deployments?.get && deployments.post && deployments.delete);
    const deployment = apps['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.ok(deployment?.get && deployment.put && deployment.patch && deployment.delete);
    assert.ok(apps['/apis/apps/v1/deployments']?.get, 'list across namespaces');
    assert.ok(apps['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']?.patch);
    const scale = apps['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.patch as Operation;
    assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    assert.ok(doc('apis/apps/v1').components.schemas['io.k8s.api.autoscaling.v1.Scale']);

    const core = doc('api/v1').paths;
    assert.ok(core['/api/v1/nodes/{name}']?.patch, 'cluster-scoped item');
    assert.equal(core['/api/v1/namespaces/{namespace}/nodes'], undefined);
    assert.ok(core['/api/v1/namespaces/{namespace}/pods/{name}/binding']?.post);
    assert.ok(core['/api/v1/namespaces/{namespace}/pods/{name}/log']?.get);
    assert.ok(core['/api/v1/namespaces/{name}']?.delete, 'namespaces are deletable');
  });

  test('schemas carry GVKs, types, and Kubernetes shapes for IntOrString, Quantity and Time', () => {
    const schemas = doc('apis/apps/v1').components.schemas;
    assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']?.['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], { oneOf: [{ type: 'string' }, { type: 'number' }] });
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'], { type: 'string', format: 'date-time' });
    const spec = schemas['io.k8s.api.apps.v1.DeploymentSpec'] as Json;
    assert.deepEqual(property(schemas, spec, 'replicas'), { type: 'integer', format: 'int32' });
    assert.deepEqual(spec.required, ['selector', 'template']);
    assert.deepEqual(property(schemas, spec, 'strategy'), {
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }],
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    const meta = schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] as Json;
    assert.deepEqual(property(schemas, meta, 'labels'), { type: 'object', additionalProperties: { type: 'string' } });
    assert.deepEqual(property(schemas, meta, 'finalizers'), {
      type: 'array',
      items: { type: 'string' },
      'x-kubernetes-list-type': 'set',
      'x-kubernetes-patch-strategy': 'merge',
    });
  });

  test('a patch-metadata walk from the Deployment schema finds merge keys as kubectl would', () => {
    const schemas = doc('apis/apps/v1').components.schemas;
    let s = schemas['io.k8s.api.apps.v1.Deployment'] as Json;
    for (const key of ['spec', 'template', 'spec']) s = resolve(schemas, property(schemas, s, key));
    const containers = property(schemas, s, 'containers');
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    const container = resolve(schemas, containers.items as Json);
    const ports = property(schemas, container, 'ports');
    assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(property(schemas, s, 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(property(schemas, container, 'args')['x-kubernetes-patch-strategy'], undefined);
  });
});
