// The committed type schema data must be what the generator makes from the installed
// @kubernetes/client-node and kubernetes-types: regenerate after upgrading them
// (`npx tsx api/schema/generate.ts`).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { schemaData } from '../../api/schema/definitions.js';
import { generateSchemaData, serializeSchemaData } from '../../api/schema/generate.js';
import type { ObjectDefinition } from '../../api/schema/model.js';
import { RESOURCES } from '../../api/resources.js';

describe('api/schema/types.json', () => {
  const report = generateSchemaData();

  test('equals a fresh generation', () => {
    assert.deepEqual(report.data, schemaData, 'types.json is stale: run `npx tsx api/schema/generate.ts`');
  });

  test('serialises deterministically, one definition a line', () => {
    const text = serializeSchemaData(report.data);
    assert.equal(text, serializeSchemaData(generateSchemaData().data));
    assert.deepEqual(JSON.parse(text), report.data);
    assert.equal(text.split('\n').length, Object.keys(report.data.definitions).length + 6);
  });

  test('has every served kind and its list, with their GVKs', () => {
    const kinds = new Set<string>();
    for (const def of Object.values(schemaData.definitions)) {
      if (def.type !== 'object' || !def.gvk) continue;
      for (const gvk of def.gvk) kinds.add(`${gvk.group}/${gvk.version}/${gvk.kind}`);
    }
    for (const r of RESOURCES) {
      assert.ok(kinds.has(`${r.group}/${r.version}/${r.kind}`), r.kind);
      assert.ok(kinds.has(`${r.group}/${r.version}/${r.kind}List`), `${r.kind}List`);
    }
    for (const extra of ['autoscaling/v1/Scale', '/v1/Binding', '/v1/Status', 'apps/v1/DeleteOptions']) {
      assert.ok(kinds.has(extra), extra);
    }
  });

  test('maps client-node class names to canonical definition names', () => {
    const defs = schemaData.definitions;
    for (const name of [
      'io.k8s.api.core.v1.Pod',
      'io.k8s.api.core.v1.Event',
      'io.k8s.api.events.v1.Event',
      'io.k8s.api.core.v1.EndpointPort',
      'io.k8s.api.discovery.v1.EndpointPort',
      'io.k8s.api.autoscaling.v1.Scale',
      'io.k8s.api.apps.v1.DeploymentSpec',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
      'io.k8s.apimachinery.pkg.api.resource.Quantity',
      'io.k8s.apimachinery.pkg.runtime.RawExtension',
    ]) {
      assert.ok(defs[name], name);
    }
    // Types newer than kubernetes-types 1.30 take the package of the type referring to them.
    assert.ok(report.packagesInferred.some((line) => line.startsWith('V1ForNode -> discovery/v1')));
  });

  test('types properties: primitives with formats, references, arrays, maps, specials', () => {
    const defs = schemaData.definitions;
    const spec = defs['io.k8s.api.apps.v1.DeploymentSpec'] as ObjectDefinition;
    assert.deepEqual(spec.properties.replicas, { type: 'integer', format: 'int32' });
    assert.deepEqual(spec.properties.template, { type: 'ref', ref: 'io.k8s.api.core.v1.PodTemplateSpec' });
    assert.deepEqual(spec.required, ['selector', 'template']);
    const podSpec = defs['io.k8s.api.core.v1.PodSpec'] as ObjectDefinition;
    assert.deepEqual(podSpec.properties.containers, { type: 'array', items: { type: 'ref', ref: 'io.k8s.api.core.v1.Container' } });
    assert.deepEqual(podSpec.properties.nodeSelector, { type: 'map', values: { type: 'string' } });
    const meta = defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] as ObjectDefinition;
    assert.deepEqual(meta.properties.creationTimestamp, { type: 'ref', ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time' });
    const secret = defs['io.k8s.api.core.v1.Secret'] as ObjectDefinition;
    assert.deepEqual(secret.properties.data, { type: 'map', values: { type: 'string', format: 'byte' } });
    const port = defs['io.k8s.api.core.v1.ServicePort'] as ObjectDefinition;
    assert.deepEqual(port.properties.targetPort, { type: 'ref', ref: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' });
    const lease = defs['io.k8s.api.coordination.v1.LeaseSpec'] as ObjectDefinition;
    assert.deepEqual(lease.properties.renewTime, { type: 'ref', ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime' });
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], { type: 'int-or-string' });
  });

  test('recognises Quantity fields that client-node types as strings', () => {
    const defs = schemaData.definitions;
    const quantityMap = { type: 'map', values: { type: 'ref', ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' } };
    const resources = defs['io.k8s.api.core.v1.ResourceRequirements'] as ObjectDefinition;
    assert.deepEqual(resources.properties.limits, quantityMap);
    assert.deepEqual(resources.properties.requests, quantityMap);
    const node = defs['io.k8s.api.core.v1.NodeStatus'] as ObjectDefinition;
    assert.deepEqual(node.properties.capacity, quantityMap);
    assert.deepEqual(node.properties.allocatable, quantityMap);
    const emptyDir = defs['io.k8s.api.core.v1.EmptyDirVolumeSource'] as ObjectDefinition;
    assert.deepEqual(emptyDir.properties.sizeLimit, { type: 'ref', ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' });
    // An ordinary string stays a string.
    assert.deepEqual((defs['io.k8s.api.core.v1.Container'] as ObjectDefinition).properties.image, { type: 'string' });
  });

  test('every reference resolves', () => {
    for (const [name, def] of Object.entries(schemaData.definitions)) {
      if (def.type !== 'object') continue;
      for (const [property, type] of Object.entries(def.properties)) {
        let t = type;
        while (t.type === 'array' || t.type === 'map') t = t.type === 'array' ? t.items : t.values;
        if (t.type === 'ref') assert.ok(schemaData.definitions[t.ref], `${name}.${property} -> ${t.ref}`);
      }
    }
  });
});
