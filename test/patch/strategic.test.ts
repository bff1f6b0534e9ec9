// Strategic merge patch against apimachinery's semantics: the patch kubectl apply sent in the
// research traces, and the classic cases of merging, deleting, ordering and retaining keys.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StrategicMergePatchError, strategicMergePatch, type JsonObject } from '../../controlplane/apiserver/patch/strategic.js';

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const POD = 'io.k8s.api.core.v1.Pod';
const SERVICE = 'io.k8s.api.core.v1.Service';

function liveDeployment(): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'default', labels: { app: 'x' }, annotations: { keep: 'me' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'x' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'x' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.25',
              ports: [
                { containerPort: 80, protocol: 'TCP' },
                { containerPort: 443, protocol: 'TCP' },
              ],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              args: ['--one', '--two'],
            },
            { name: 'sidecar', image: 'busybox', command: ['sleep', 'infinity'] },
          ],
          tolerations: [{ key: 'k', operator: 'Exists' }],
        },
      },
    },
  };
}

type Any = Record<string, any>;

function podSpec(obj: JsonObject): Any {
  return (obj as Any).spec.template.spec;
}

function names(list: Any[]): string[] {
  return list.map((item) => item.name as string);
}

function smpError(fn: () => unknown): StrategicMergePatchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StrategicMergePatchError, String(err));
    return err;
  }
  assert.fail('expected a StrategicMergePatchError');
}

describe('strategic merge patch', () => {
  test('the patch kubectl apply sent for an image and replicas change keeps ports, env and other containers', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}\n' } },
      spec: {
        replicas: 4,
        template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.27', name: 'nginx' }] } },
      },
    };
    const result = strategicMergePatch(liveDeployment(), patch, DEPLOYMENT) as Any;
    assert.equal(result.spec.replicas, 4);
    assert.deepEqual(result.metadata.annotations, { keep: 'me', 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}\n' });
    const expected = liveDeployment() as Any;
    expected.spec.template.spec.containers[0].image = 'nginx:1.27';
    // nginx is listed by the directive; sidecar is server-only and keeps its place after it.
    assert.deepEqual(result.spec.template.spec.containers, expected.spec.template.spec.containers);
    assert.ok(!JSON.stringify(result).includes('$setElementOrder'));
  });

  test('does not modify its inputs', () => {
    const live = liveDeployment();
    const patch = { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'delete' }] } } } };
    const patchCopy = structuredClone(patch);
    strategicMergePatch(live, patch, DEPLOYMENT);
    assert.deepEqual(live, liveDeployment());
    assert.deepEqual(patch, patchCopy);
  });

  test('adds a container: first without an order directive, where $setElementOrder puts it with one', () => {
    const added = { name: 'logger', image: 'fluentbit' };
    const plain = strategicMergePatch(liveDeployment(), { spec: { template: { spec: { containers: [added] } } } }, DEPLOYMENT);
    // apimachinery places patch items the live list does not know before the server-only ones.
    assert.deepEqual(names(podSpec(plain).containers), ['logger', 'nginx', 'sidecar']);
    assert.deepEqual(podSpec(plain).containers[0], added);

    const ordered = strategicMergePatch(
      liveDeployment(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }, { name: 'logger' }],
              containers: [added],
            },
          },
        },
      },
      DEPLOYMENT,
    );
    assert.deepEqual(names(podSpec(ordered).containers), ['nginx', 'sidecar', 'logger']);
  });

  test('an existing item named by the patch keeps its place', () => {
    const result = strategicMergePatch(liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:2' }] } } } }, DEPLOYMENT);
    assert.deepEqual(names(podSpec(result).containers), ['nginx', 'sidecar']);
    assert.deepEqual(podSpec(result).containers[1], { name: 'sidecar', image: 'busybox:2', command: ['sleep', 'infinity'] });
  });

  test('$patch: delete removes a container by merge key', () => {
    const result = strategicMergePatch(liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }, DEPLOYMENT);
    assert.deepEqual(names(podSpec(result).containers), ['nginx']);
    assert.equal(podSpec(result).containers[0].ports.length, 2);
  });

  test('$setElementOrder alone reorders the list', () => {
    const result = strategicMergePatch(
      liveDeployment(),
      { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }] } } } },
      DEPLOYMENT,
    );
    assert.deepEqual(names(podSpec(result).containers), ['sidecar', 'nginx']);
    assert.equal(podSpec(result).containers[1].image, 'nginx:1.25');
  });

  test('an env var change keeps the other env vars; ports merge by containerPort', () => {
    const patch = {
      spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'B', value: '20' }], ports: [{ containerPort: 443, name: 'https' }] }] } } },
    };
    const nginx = podSpec(strategicMergePatch(liveDeployment(), patch, DEPLOYMENT)).containers[0];
    assert.deepEqual(nginx.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
    ]);
    assert.deepEqual(nginx.ports, [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 443, protocol: 'TCP', name: 'https' },
    ]);
    // A list without a strategy (args) is replaced.
    const args = podSpec(strategicMergePatch(liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'nginx', args: ['--three'] }] } } } }, DEPLOYMENT));
    assert.deepEqual(args.containers[0].args, ['--three']);
  });

  test('a null value deletes a field, also inside a merged item', () => {
    const patch = { metadata: { labels: { app: null, tier: 'web' } }, spec: { template: { spec: { containers: [{ name: 'nginx', args: null }], tolerations: null } } } };
    const result = strategicMergePatch(liveDeployment(), patch, DEPLOYMENT) as Any;
    assert.deepEqual(result.metadata.labels, { tier: 'web' });
    assert.equal('args' in result.spec.template.spec.containers[0], false);
    assert.equal('tolerations' in result.spec.template.spec, false);
  });

  test('finalizers merge as a set union; $deleteFromPrimitiveList removes', () => {
    const union = strategicMergePatch(liveDeployment(), { metadata: { finalizers: ['b', 'c'] } }, DEPLOYMENT) as Any;
    assert.deepEqual(union.metadata.finalizers, ['a', 'b', 'c']);
    const added = strategicMergePatch(liveDeployment(), { metadata: { finalizers: ['z'] } }, DEPLOYMENT) as Any;
    assert.deepEqual(added.metadata.finalizers, ['z', 'a', 'b']);
    const removed = strategicMergePatch(liveDeployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'nope'] } }, DEPLOYMENT) as Any;
    assert.deepEqual(removed.metadata.finalizers, ['b']);
    // Deleting from a list the object lacks does not create it.
    const live = liveDeployment() as Any;
    delete live.metadata.finalizers;
    const none = strategicMergePatch(live, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, DEPLOYMENT) as Any;
    assert.equal('finalizers' in none.metadata, false);
    // Primitive lists ordered by $setElementOrder.
    const ordered = strategicMergePatch(liveDeployment(), { metadata: { '$setElementOrder/finalizers': ['b', 'c', 'a'], finalizers: ['c'] } }, DEPLOYMENT) as Any;
    assert.deepEqual(ordered.metadata.finalizers, ['b', 'c', 'a']);
  });

  test('retainKeys: RollingUpdate to Recreate drops rollingUpdate, and back', () => {
    const recreate = strategicMergePatch(liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, DEPLOYMENT) as Any;
    assert.deepEqual(recreate.spec.strategy, { type: 'Recreate' });
    const back = strategicMergePatch(
      recreate,
      { spec: { strategy: { $retainKeys: ['rollingUpdate', 'type'], type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      DEPLOYMENT,
    ) as Any;
    assert.deepEqual(back.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } });
    // Without the directive, a plain merge keeps rollingUpdate, as in Kubernetes.
    const merged = strategicMergePatch(liveDeployment(), { spec: { strategy: { type: 'Recreate' } } }, DEPLOYMENT) as Any;
    assert.deepEqual(Object.keys(merged.spec.strategy), ['type', 'rollingUpdate']);
    // A key the patch sets must be listed.
    const err = smpError(() => strategicMergePatch(liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, DEPLOYMENT));
    assert.equal(err.errorClass, 'bad-request');
    assert.equal(err.message, 'invalid patch format of retainKeys');
  });

  test('volumes merge by name and retain keys per item', () => {
    const live = liveDeployment() as Any;
    live.spec.template.spec.volumes = [
      { name: 'data', emptyDir: {} },
      { name: 'conf', configMap: { name: 'c' } },
    ];
    const result = strategicMergePatch(live, { spec: { template: { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/d' } }] } } } }, DEPLOYMENT);
    assert.deepEqual(podSpec(result).volumes, [
      { name: 'data', hostPath: { path: '/d' } },
      { name: 'conf', configMap: { name: 'c' } },
    ]);
  });

  test('map directives: $patch replace and delete', () => {
    const replaced = strategicMergePatch(liveDeployment(), { spec: { selector: { $patch: 'replace', matchLabels: { app: 'y' } } } }, DEPLOYMENT) as Any;
    assert.deepEqual(replaced.spec.selector, { matchLabels: { app: 'y' } });
    const labels = strategicMergePatch(liveDeployment(), { metadata: { labels: { $patch: 'replace', only: 'this' } } }, DEPLOYMENT) as Any;
    assert.deepEqual(labels.metadata.labels, { only: 'this' });
    const deleted = strategicMergePatch(liveDeployment(), { spec: { strategy: { $patch: 'delete' } } }, DEPLOYMENT) as Any;
    assert.deepEqual(deleted.spec.strategy, {});
    const whole = strategicMergePatch(liveDeployment(), { $patch: 'replace', kind: 'Deployment' }, DEPLOYMENT);
    assert.deepEqual(whole, { kind: 'Deployment' });
    const bad = smpError(() => strategicMergePatch(liveDeployment(), { spec: { $patch: 'explode' } }, DEPLOYMENT));
    assert.equal(bad.errorClass, 'internal');
    assert.match(bad.message, /^unknown patch type: explode in map: map\[\$patch:explode\]$/);
  });

  test('list directive $patch: replace replaces a merging list', () => {
    const result = strategicMergePatch(
      liveDeployment(),
      { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'alpine' }] } } } },
      DEPLOYMENT,
    );
    assert.deepEqual(podSpec(result).containers, [{ name: 'only', image: 'alpine' }]);
  });

  test('values added whole lose nulls and directives', () => {
    const live = liveDeployment() as Any;
    delete live.spec.template.spec.tolerations;
    const result = strategicMergePatch(
      live,
      { spec: { template: { spec: { tolerations: [{ key: 'a', value: null }], initContainers: [{ name: 'init', image: 'i', $patch: 'merge' }, { name: 'x', $patch: 'delete' }] } } } },
      DEPLOYMENT,
    );
    assert.deepEqual(podSpec(result).tolerations, [{ key: 'a' }]);
    assert.deepEqual(podSpec(result).initContainers, [{ name: 'init', image: 'i' }]);
    // A list's `$patch: replace` marker is no item of the list it brings, live list or not.
    const replaced = strategicMergePatch(live, { spec: { template: { spec: { tolerations: [{ $patch: 'replace' }, { key: 'b' }] } } } }, DEPLOYMENT);
    assert.deepEqual(podSpec(replaced).tolerations, [{ key: 'b' }]);
  });

  test('Service ports merge by port; ownerReferences by uid', () => {
    const service = {
      metadata: { name: 's', ownerReferences: [{ uid: '1', name: 'a', kind: 'X', apiVersion: 'v1' }] },
      spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] },
    };
    const result = strategicMergePatch(
      service,
      { metadata: { ownerReferences: [{ uid: '1', controller: true }] }, spec: { ports: [{ port: 443, name: 'https' }] } },
      SERVICE,
    ) as Any;
    assert.deepEqual(result.spec.ports, [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443, name: 'https' }]);
    assert.deepEqual(result.metadata.ownerReferences, [{ uid: '1', name: 'a', kind: 'X', apiVersion: 'v1', controller: true }]);
  });

  test('status conditions merge by type', () => {
    const pod = { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] } };
    const result = strategicMergePatch(pod, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, POD) as Any;
    assert.deepEqual(result.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
  });

  test('an unknown kind merges like a JSON merge patch', () => {
    const live = { spec: { items: [{ name: 'a', v: 1 }], keep: true, drop: 1 } };
    const result = strategicMergePatch(live, { spec: { items: [{ name: 'a', v: 2 }], drop: null } }, undefined);
    assert.deepEqual(result, { spec: { items: [{ name: 'a', v: 2 }], keep: true } });
    const alsoUnknown = strategicMergePatch(live, { spec: { items: [] } }, 'io.example.v1.Widget');
    assert.deepEqual(alsoUnknown, { spec: { items: [], keep: true, drop: 1 } });
  });

  test('errors: missing merge key, bad directive formats, mismatched element order', () => {
    const noKey = smpError(() => strategicMergePatch(liveDeployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, DEPLOYMENT));
    assert.equal(noKey.errorClass, 'internal');
    assert.equal(noKey.message, 'map: map[image:x] does not contain declared merge key: name');
    const badRetain = smpError(() => strategicMergePatch(liveDeployment(), { spec: { strategy: { $retainKeys: 'type' } } }, DEPLOYMENT));
    assert.equal(badRetain.errorClass, 'bad-request');
    const order = smpError(() =>
      strategicMergePatch(
        liveDeployment(),
        { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'other' }] } } } },
        DEPLOYMENT,
      ),
    );
    assert.match(order.message, /^The order in patch list:/);
    const listOfLists = smpError(() => strategicMergePatch({ metadata: { finalizers: ['a'] } }, { metadata: { finalizers: [['b']] } }, DEPLOYMENT));
    assert.equal(listOfLists.errorClass, 'invalid');
  });
});
