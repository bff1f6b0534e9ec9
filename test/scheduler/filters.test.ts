// Each scheduler filter on plain objects: which nodes it lets through and the words it uses.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { FilterPlugin } from '../../controlplane/scheduler/framework.js';
import { interPodAffinity } from '../../controlplane/scheduler/filters/inter-pod-affinity.js';
import { nodeAffinity } from '../../controlplane/scheduler/filters/node-affinity.js';
import { nodePorts } from '../../controlplane/scheduler/filters/node-ports.js';
import { nodeReady } from '../../controlplane/scheduler/filters/node-ready.js';
import { nodeUnschedulable } from '../../controlplane/scheduler/filters/node-unschedulable.js';
import { resourcesFit } from '../../controlplane/scheduler/filters/resources-fit.js';
import { taintToleration } from '../../controlplane/scheduler/filters/taint-toleration.js';
import { toleratesTaint } from '../../controlplane/scheduler/tolerations.js';
import { cacheOf, info, node, nodeInfo, pod } from './fixtures.js';
import type { NodeShape } from './fixtures.js';

/** What `filter` says about `p` on a node of `shape` (with `bound` pods on it) in a cluster of that node; [] = fits. */
function judge(filter: FilterPlugin, p: Pod, shape: NodeShape = {}, bound: Pod[] = []): readonly string[] {
  const check = filter.forPod(info(p), cacheOf([node('n1', shape)]));
  if (!check) return [];
  return check(nodeInfo(node('n1', shape), ...bound));
}

describe('NodeUnschedulable', () => {
  test('a cordoned node refuses pods unless they tolerate the unschedulable taint', () => {
    assert.deepEqual(judge(nodeUnschedulable, pod('p'), { unschedulable: true }), ['node(s) were unschedulable']);
    assert.deepEqual(judge(nodeUnschedulable, pod('p'), {}), []);
    const tolerant = pod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.deepEqual(judge(nodeUnschedulable, tolerant, { unschedulable: true }), []);
  });
});

describe('NodeReady', () => {
  test('a node not Ready refuses pods with the reason of its condition taint', () => {
    assert.deepEqual(judge(nodeReady, pod('p'), { ready: 'True' }), []);
    assert.deepEqual(judge(nodeReady, pod('p'), { ready: 'False' }), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    assert.deepEqual(judge(nodeReady, pod('p'), { ready: 'missing' }), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    assert.deepEqual(judge(nodeReady, pod('p'), { ready: 'Unknown' }), ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }']);
  });

  test('the default NoExecute tolerations do not let pods onto a node that is not Ready', () => {
    const p = pod('p', {
      spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    });
    assert.equal(judge(nodeReady, p, { ready: 'Unknown' }).length, 1);
    const everything = pod('p', { spec: { tolerations: [{ operator: 'Exists' }] } });
    assert.deepEqual(judge(nodeReady, everything, { ready: 'Unknown' }), []);
  });
});

describe('TaintToleration', () => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };

  test('NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule does not filter', () => {
    assert.deepEqual(judge(taintToleration, pod('p'), { taints: [taint] }), ['node(s) had untolerated taint {dedicated: gpu}']);
    assert.deepEqual(judge(taintToleration, pod('p'), { taints: [{ key: 'x', effect: 'NoExecute' }] }), ['node(s) had untolerated taint {x: }']);
    assert.deepEqual(judge(taintToleration, pod('p'), { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), []);
  });

  test('Equal needs the value, Exists any value, an empty key with Exists everything, an empty effect every effect', () => {
    const withToleration = (t: object) => pod('p', { spec: { tolerations: [t] } });
    assert.deepEqual(judge(taintToleration, withToleration({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }), { taints: [taint] }), []);
    assert.equal(judge(taintToleration, withToleration({ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }), { taints: [taint] }).length, 1);
    assert.deepEqual(judge(taintToleration, withToleration({ key: 'dedicated', operator: 'Exists' }), { taints: [taint] }), []);
    assert.deepEqual(judge(taintToleration, withToleration({ operator: 'Exists' }), { taints: [taint] }), []);
    assert.equal(judge(taintToleration, withToleration({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }), { taints: [taint] }).length, 1);
  });
});

describe('toleratesTaint (v1 Toleration.ToleratesTaint, shared by the scheduler, the DaemonSet and node lifecycle controllers)', () => {
  test('effect, key and operator each must agree', () => {
    const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' as const };
    assert.ok(toleratesTaint({ operator: 'Exists' }, taint), 'no key, Exists: everything');
    assert.ok(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, taint), 'the key, Exists: any value');
    assert.ok(toleratesTaint({ key: 'dedicated', value: 'db' }, taint), 'Equal is the default');
    assert.ok(!toleratesTaint({ key: 'dedicated', value: 'web' }, taint), 'another value');
    assert.ok(!toleratesTaint({ key: 'other', operator: 'Exists' }, taint), 'another key');
    assert.ok(!toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint), 'another effect');
    assert.ok(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, taint), 'the same effect');
    assert.ok(!toleratesTaint({ key: 'dedicated', operator: 'Gt', value: 'db' }, taint), 'an operator Kubernetes does not know');
  });
});

describe('NodeAffinity', () => {
  const labels = { zone: 'a', disk: 'ssd', cores: '8' };
  const withAffinity = (terms: object[]) =>
    pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } as Pod['spec'] });
  const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, values }] });

  test('nodeSelector needs every label', () => {
    assert.deepEqual(judge(nodeAffinity, pod('p', { spec: { nodeSelector: { zone: 'a', disk: 'ssd' } } }), { labels }), []);
    assert.deepEqual(judge(nodeAffinity, pod('p', { spec: { nodeSelector: { zone: 'b' } } }), { labels }), ["node(s) didn't match Pod's node affinity/selector"]);
  });

  test('every operator of matchExpressions', () => {
    const fits = (terms: object[]) => judge(nodeAffinity, withAffinity(terms), { labels }).length === 0;
    assert.ok(fits([expr('zone', 'In', ['a', 'b'])]));
    assert.ok(!fits([expr('zone', 'In', ['b'])]));
    assert.ok(fits([expr('zone', 'NotIn', ['b'])]));
    assert.ok(!fits([expr('zone', 'NotIn', ['a'])]));
    assert.ok(fits([expr('missing', 'NotIn', ['a'])]));
    assert.ok(fits([expr('disk', 'Exists')]));
    assert.ok(!fits([expr('gpu', 'Exists')]));
    assert.ok(fits([expr('gpu', 'DoesNotExist')]));
    assert.ok(fits([expr('cores', 'Gt', ['4'])]));
    assert.ok(!fits([expr('cores', 'Gt', ['8'])]));
    assert.ok(fits([expr('cores', 'Lt', ['16'])]));
    assert.ok(!fits([expr('zone', 'Lt', ['16'])]));
  });

  test('terms are ORed, requirements within a term ANDed; matchFields names the node; an empty term matches nothing', () => {
    const fits = (terms: object[]) => judge(nodeAffinity, withAffinity(terms), { labels }).length === 0;
    assert.ok(fits([expr('zone', 'In', ['b']), expr('disk', 'In', ['ssd'])]));
    assert.ok(!fits([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }]));
    assert.ok(fits([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]));
    assert.ok(!fits([{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }]));
    assert.ok(!fits([{}]));
  });
});

describe('NodePorts', () => {
  test('a host port is taken by a pod on the same port and protocol; 0.0.0.0 conflicts with any IP', () => {
    const reason = ["node(s) didn't have free ports for the requested pod ports"];
    const other = pod('other', { hostPort: 8080, nodeName: 'n1' });
    assert.deepEqual(judge(nodePorts, pod('p', { hostPort: 8080 }), {}, [other]), reason);
    assert.deepEqual(judge(nodePorts, pod('p', { hostPort: 8081 }), {}, [other]), []);
    const udp = pod('p', { spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 1, hostPort: 8080, protocol: 'UDP' }] }] } });
    assert.deepEqual(judge(nodePorts, udp, {}, [other]), []);
    const onIp = (name: string, ip: string) =>
      pod(name, { nodeName: 'n1', spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 1, hostPort: 9000, hostIP: ip, protocol: 'TCP' }] }] } });
    assert.deepEqual(judge(nodePorts, onIp('p', '10.0.0.2'), {}, [onIp('q', '10.0.0.1')]), []);
    assert.deepEqual(judge(nodePorts, onIp('p', '10.0.0.1'), {}, [onIp('q', '10.0.0.1')]), reason);
    assert.deepEqual(judge(nodePorts, onIp('p', '0.0.0.0'), {}, [onIp('q', '10.0.0.1')]), reason);
    assert.deepEqual(judge(nodePorts, onIp('p', '10.0.0.1'), {}, [onIp('q', '0.0.0.0')]), reason);
  });
});

describe('NodeResourcesFit', () => {
  test('requests must fit in allocatable minus what bound pods request; every shortage is a reason', () => {
    const bound = [pod('a', { cpu: '3', memory: '6Gi', nodeName: 'n1' })];
    assert.deepEqual(judge(resourcesFit, pod('p', { cpu: '1', memory: '2Gi' }), {}, bound), []);
    assert.deepEqual(judge(resourcesFit, pod('p', { cpu: '1100m' }), {}, bound), ['Insufficient cpu']);
    assert.deepEqual(judge(resourcesFit, pod('p', { cpu: '2', memory: '3Gi' }), {}, bound), ['Insufficient cpu', 'Insufficient memory']);
    assert.deepEqual(judge(resourcesFit, pod('p'), { pods: '1' }, bound), ['Too many pods']);
    const gpu = pod('p', { spec: { containers: [{ name: 'a', image: 'x', resources: { requests: { 'example.com/gpu': '1' } } }] } });
    assert.deepEqual(judge(resourcesFit, gpu), ['Insufficient example.com/gpu']);
  });

  test('init containers count at their peak, sidecars and overhead add up', () => {
    const p = pod('p', {
      spec: {
        initContainers: [
          { name: 'setup', image: 'x', resources: { requests: { cpu: '3500m' } } },
          { name: 'sidecar', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
        ],
        containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '1' } } }],
        overhead: { cpu: '250m' },
      },
    });
    assert.equal(info(p).requests.get('cpu'), 3750);
    assert.deepEqual(judge(resourcesFit, p, { cpu: '3' }), ['Insufficient cpu']);
    assert.deepEqual(judge(resourcesFit, p, { cpu: '4' }), []);
  });
});

describe('InterPodAffinity', () => {
  const antiAffinity = (app: string, topologyKey = 'kubernetes.io/hostname') => ({
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey }] },
  });

  test('required anti-affinity on the hostname keeps pods of a kind on different nodes', () => {
    const n1 = node('n1');
    const n2 = node('n2');
    const running = pod('web-1', { labels: { app: 'web' }, nodeName: 'n1' });
    const cache = cacheOf([n1, n2], [running]);
    const incoming = info(pod('web-2', { labels: { app: 'web' }, spec: { affinity: antiAffinity('web') } }));
    const check = interPodAffinity.forPod(incoming, cache)!;
    assert.deepEqual(check(cache.nodeInfo('n1')!), ["node(s) didn't match pod anti-affinity rules"]);
    assert.deepEqual(check(cache.nodeInfo('n2')!), []);
  });

  test("an existing pod's anti-affinity keeps matching pods away (symmetry)", () => {
    const cache = cacheOf([node('n1'), node('n2')], [pod('db', { labels: { app: 'db' }, nodeName: 'n1', spec: { affinity: antiAffinity('web') } })]);
    const check = interPodAffinity.forPod(info(pod('web', { labels: { app: 'web' } })), cache)!;
    assert.deepEqual(check(cache.nodeInfo('n1')!), ["node(s) didn't satisfy existing pods anti-affinity rules"]);
    assert.deepEqual(check(cache.nodeInfo('n2')!), []);
  });

  test('anti-affinity on another topology key covers every node of the domain; namespaces scope the terms', () => {
    const cache = cacheOf(
      [node('n1', { labels: { zone: 'a' } }), node('n2', { labels: { zone: 'a' } }), node('n3', { labels: { zone: 'b' } })],
      [pod('web-1', { labels: { app: 'web' }, nodeName: 'n1' }), pod('web-x', { namespace: 'other', labels: { app: 'web' }, nodeName: 'n3' })],
    );
    const check = interPodAffinity.forPod(info(pod('web-2', { labels: { app: 'web' }, spec: { affinity: antiAffinity('web', 'zone') } })), cache)!;
    assert.equal(check(cache.nodeInfo('n2')!).length, 1);
    assert.deepEqual(check(cache.nodeInfo('n3')!), []);
  });

  test('required affinity needs a matching pod in the domain, except for the first of a group', () => {
    const affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const withCache = cacheOf([node('n1'), node('n2')], [pod('cache', { labels: { app: 'cache' }, nodeName: 'n2' })]);
    const check = interPodAffinity.forPod(info(pod('web', { labels: { app: 'web' }, spec: { affinity } })), withCache)!;
    assert.deepEqual(check(withCache.nodeInfo('n1')!), ["node(s) didn't match pod affinity rules"]);
    assert.deepEqual(check(withCache.nodeInfo('n2')!), []);
    const empty = cacheOf([node('n1')]);
    const first = interPodAffinity.forPod(info(pod('cache-1', { labels: { app: 'cache' }, spec: { affinity } })), empty)!;
    assert.deepEqual(first(empty.nodeInfo('n1')!), []);
  });
});

describe('filters that could refuse no node', () => {
  test('step aside on a cluster without cordoned, unready or tainted nodes, and not otherwise', () => {
    const healthy = cacheOf([node('a'), node('b', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] })]);
    for (const filter of [nodeUnschedulable, nodeReady, taintToleration]) {
      assert.equal(filter.forPod(info(pod('p')), healthy), undefined, filter.name);
    }
    const cordoned = cacheOf([node('a'), node('b', { unschedulable: true })]);
    assert.ok(nodeUnschedulable.forPod(info(pod('p')), cordoned));
    const unready = cacheOf([node('a'), node('b', { ready: 'Unknown' })]);
    assert.ok(nodeReady.forPod(info(pod('p')), unready));
    const tainted = cacheOf([node('a'), node('b', { taints: [{ key: 'x', effect: 'NoExecute' }] })]);
    assert.ok(taintToleration.forPod(info(pod('p')), tainted));
  });
});

