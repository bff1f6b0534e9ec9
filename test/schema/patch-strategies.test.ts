// The hand-written patch strategy table must name real definitions, list fields and merge keys,
// and cover the fields kubectl's patches depend on.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { objectDefinition } from '../../api/schema/definitions.js';
import type { FieldType } from '../../api/schema/model.js';
import { PATCH_STRATEGIES, hasMergeStrategy, hasRetainKeysStrategy, patchMetaOf } from '../../api/schema/patch-strategies.js';

describe('patch strategy table', () => {
  test('every entry names an existing definition and property of the right shape', () => {
    for (const [definitionName, fields] of Object.entries(PATCH_STRATEGIES)) {
      const def = objectDefinition(definitionName);
      assert.ok(def, `unknown definition ${definitionName}`);
      for (const [property, meta] of Object.entries(fields)) {
        const type: FieldType | undefined = def.properties[property];
        assert.ok(type, `${definitionName} has no property ${property}`);
        if (meta.strategy === 'retainKeys') {
          assert.equal(type.type, 'ref', `${definitionName}.${property}: retainKeys applies to a struct`);
          continue;
        }
        assert.equal(type.type, 'array', `${definitionName}.${property}: merge applies to a list`);
        if (type.type !== 'array') continue;
        if (meta.mergeKey) {
          assert.equal(type.items.type, 'ref', `${definitionName}.${property}: a merge key needs a list of objects`);
          if (type.items.type !== 'ref') continue;
          const item = objectDefinition(type.items.ref);
          assert.ok(item, type.items.ref);
          assert.ok(item.properties[meta.mergeKey], `${type.items.ref} has no merge key ${meta.mergeKey}`);
          for (const key of meta.listMapKeys ?? []) assert.ok(item.properties[key], `${type.items.ref} has no list-map key ${key}`);
        } else {
          assert.notEqual(type.items.type, 'ref', `${definitionName}.${property}: a list of objects needs a merge key`);
        }
      }
    }
  });

  test('covers what kubectl apply relies on', () => {
    const expect = (def: string, property: string, strategy: string, mergeKey?: string): void => {
      const meta = patchMetaOf(def, property);
      assert.ok(meta, `${def}.${property}`);
      assert.equal(meta.strategy, strategy, `${def}.${property}`);
      assert.equal(meta.mergeKey, mergeKey, `${def}.${property}`);
    };
    const core = 'io.k8s.api.core.v1';
    expect(`${core}.PodSpec`, 'containers', 'merge', 'name');
    expect(`${core}.PodSpec`, 'initContainers', 'merge', 'name');
    expect(`${core}.PodSpec`, 'ephemeralContainers', 'merge', 'name');
    expect(`${core}.PodSpec`, 'volumes', 'merge,retainKeys', 'name');
    expect(`${core}.PodSpec`, 'imagePullSecrets', 'merge', 'name');
    expect(`${core}.PodSpec`, 'hostAliases', 'merge', 'ip');
    expect(`${core}.PodSpec`, 'topologySpreadConstraints', 'merge', 'topologyKey');
    for (const container of [`${core}.Container`, `${core}.EphemeralContainer`]) {
      expect(container, 'ports', 'merge', 'containerPort');
      expect(container, 'env', 'merge', 'name');
      expect(container, 'volumeMounts', 'merge', 'mountPath');
      expect(container, 'volumeDevices', 'merge', 'devicePath');
    }
    expect('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers', 'merge');
    expect('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences', 'merge', 'uid');
    expect(`${core}.ServiceSpec`, 'ports', 'merge', 'port');
    expect(`${core}.NodeStatus`, 'addresses', 'merge', 'type');
    expect(`${core}.PodStatus`, 'podIPs', 'merge', 'ip');
    expect(`${core}.ServiceAccount`, 'secrets', 'merge', 'name');
    expect('io.k8s.api.apps.v1.DeploymentSpec', 'strategy', 'retainKeys');
    for (const status of ['apps.v1.DeploymentStatus', 'apps.v1.ReplicaSetStatus', 'apps.v1.StatefulSetStatus', 'apps.v1.DaemonSetStatus', 'batch.v1.JobStatus', 'core.v1.PodStatus', 'core.v1.NodeStatus', 'core.v1.NamespaceStatus', 'core.v1.ServiceStatus']) {
      expect(`io.k8s.api.${status}`, 'conditions', 'merge', 'type');
    }
  });

  test('lists without a Kubernetes strategy have none', () => {
    assert.equal(patchMetaOf('io.k8s.api.core.v1.PodSpec', 'tolerations'), undefined);
    assert.equal(patchMetaOf('io.k8s.api.core.v1.Container', 'args'), undefined);
    assert.equal(patchMetaOf('io.k8s.api.core.v1.PodSpec', 'nosuchfield'), undefined);
  });

  test('strategy helpers read combined strategies', () => {
    const volumes = patchMetaOf('io.k8s.api.core.v1.PodSpec', 'volumes');
    assert.ok(hasMergeStrategy(volumes) && hasRetainKeysStrategy(volumes));
    const strategy = patchMetaOf('io.k8s.api.apps.v1.DeploymentSpec', 'strategy');
    assert.ok(!hasMergeStrategy(strategy) && hasRetainKeysStrategy(strategy));
    assert.ok(!hasMergeStrategy(undefined));
  });
});
