// The scheduler's cache through the updates of bound pods: status writes keep a pod's
// accounting as it is, and every change the filters and scores read is counted again.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { FilterPlugin } from '../../controlplane/scheduler/framework.js';
import { interPodAffinity } from '../../controlplane/scheduler/filters/inter-pod-affinity.js';
import { podTopologySpread } from '../../controlplane/scheduler/filters/topology-spread.js';
import { placePod } from '../../controlplane/scheduler/placement.js';
import { podInfoOf } from '../../controlplane/scheduler/pod-info.js';
import type { PodInfo } from '../../controlplane/scheduler/pod-info.js';
import { DEFAULT_PROFILE } from '../../controlplane/scheduler/profile.js';
import { sameJson } from '../../api/same-json.js';
import { cacheOf, info, node, pod } from './fixtures.js';

/** Another version of `p`: a fresh object, as a watch event decodes it, changed by `change`. */
function version(p: Pod, change: (next: Pod) => void): Pod {
  const next = structuredClone(p);
  change(next);
  return next;
}

/** Another version of `p` with this status (what an agent's status write makes). */
const withStatus = (p: Pod, status: PodStatus): Pod => ({ ...structuredClone(p), status });
const running = (p: Pod): Pod => withStatus(p, runningStatus());
function runningStatus(restarts = 0): PodStatus {
  return {
    phase: 'Running',
    podIP: '10.0.0.7',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'app', image: 'busybox', imageID: '', ready: true, restartCount: restarts, state: { running: { startedAt: '2024-01-01T00:00:00Z' } } }],
  };
}

/** What the filters and scores read of a PodInfo (everything but the pod object it came from). */
function accounting(p: PodInfo): Omit<PodInfo, 'pod'> {
  const { pod: _pod, ...rest } = p;
  return rest;
}

describe('scheduler cache: updates of bound pods', () => {
  test('a status write keeps the PodInfo and the node totals; the latest pod is kept with them', () => {
    const web = running(pod('web', { cpu: '1', memory: '1Gi', hostPort: 8080, owner: 'rs', nodeName: 'n1' }));
    const cache = cacheOf([node('n1')], [web]);
    const n1 = cache.nodeInfo('n1')!;
    const before = n1.pods.get('default/web')!;
    for (let restarts = 1; restarts <= 3; restarts++) {
      const update = withStatus(web, runningStatus(restarts));
      cache.setBoundPod(update);
      assert.equal(n1.pods.get('default/web'), before, 'the PodInfo is not computed again');
      assert.equal(before.pod, update);
    }
    assert.equal(n1.requested.get('cpu'), 1000);
    assert.equal(n1.requested.get('memory'), 1024 ** 3);
    assert.equal(n1.requestedMilliCpu, 1000);
    assert.equal(n1.requestedMemory, 1024 ** 3);
    assert.equal(cache.ownerPodsPerNode('uid-rs').get(n1), 1);
    assert.ok(n1.hostPortInUse({ ip: '0.0.0.0', protocol: 'TCP', port: 8080 }));
  });

  test('a pod that finishes frees its node after status-only updates', () => {
    const web = running(pod('web', { cpu: '3', hostPort: 8080, owner: 'rs', nodeName: 'n1' }));
    const cache = cacheOf([node('n1', { cpu: '4' })], [web]);
    cache.setBoundPod(withStatus(web, runningStatus(1)));
    assert.equal(cache.ownerPodsPerNode('uid-rs').size, 1);
    const big = info(pod('big', { cpu: '2', hostPort: 8080 }));
    assert.equal(placePod(big, cache, DEFAULT_PROFILE).fits, false);

    cache.setBoundPod(withStatus(web, { ...runningStatus(1), phase: 'Succeeded' }));
    const n1 = cache.nodeInfo('n1')!;
    assert.equal(n1.podCount, 0);
    assert.equal(n1.requested.get('cpu'), 0);
    assert.equal(n1.requestedMilliCpu, 0);
    assert.equal(cache.ownerPodsPerNode('uid-rs').size, 0, 'the owner no longer counts on n1');
    assert.equal(n1.hostPortInUse({ ip: '0.0.0.0', protocol: 'TCP', port: 8080 }), false);
    assert.equal(placePod(big, cache, DEFAULT_PROFILE).fits, true);
  });

  test('a label change is seen by inter-pod anti-affinity and topology spread', () => {
    const zones = [node('a1', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } })];
    const db = running(pod('db', { labels: { app: 'db' }, nodeName: 'a1' }));
    const cache = cacheOf(zones, [db]);
    const antiAffinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone' }] } };
    const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }];
    const incoming = info(pod('web-2', { labels: { app: 'web' }, spec: { affinity: antiAffinity, topologySpreadConstraints: spread } }));
    const judge = (filter: FilterPlugin, nodeName: string) => filter.forPod(incoming, cache)?.(cache.nodeInfo(nodeName)!) ?? [];
    assert.deepEqual(judge(interPodAffinity, 'a1'), []);
    assert.deepEqual(judge(podTopologySpread, 'a1'), []);

    // Relabelled (with a status write in the same update): now a `web` pod in zone a.
    const relabelled = version(db, (next) => {
      next.metadata!.labels = { app: 'web' };
    });
    cache.setBoundPod(withStatus(relabelled, runningStatus(1)));
    assert.deepEqual(cache.nodeInfo('a1')!.pods.get('default/db')!.labels, { app: 'web' });
    assert.deepEqual(judge(interPodAffinity, 'a1'), ["node(s) didn't match pod anti-affinity rules"]);
    assert.deepEqual(judge(podTopologySpread, 'a1'), ["node(s) didn't match pod topology spread constraints"]);
    assert.deepEqual(judge(podTopologySpread, 'b1'), []);
  });

  test('every change the scheduler reads computes the PodInfo again', () => {
    const base = running(
      pod('web', { cpu: '500m', owner: 'rs', labels: { app: 'web' }, nodeName: 'n1', spec: { initContainers: [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '1' } } }] } }),
    );
    const changes: Record<string, (next: Pod) => void> = {
      'requests (a resize)': (next) => {
        next.spec!.containers[0]!.resources = { requests: { cpu: '2' } };
      },
      'init container requests': (next) => {
        next.spec!.initContainers![0]!.resources = { requests: { cpu: '3' } };
      },
      'an init container turned sidecar': (next) => {
        next.spec!.initContainers![0]!.restartPolicy = 'Always';
      },
      overhead: (next) => {
        next.spec!.overhead = { cpu: '250m' };
      },
      'host ports': (next) => {
        next.spec!.containers[0]!.ports = [{ containerPort: 80, hostPort: 80 }];
      },
      labels: (next) => {
        next.metadata!.labels = { app: 'web', tier: 'front' };
      },
      'controller owner': (next) => {
        next.metadata!.ownerReferences![0]!.uid = 'uid-other-rs';
      },
      tolerations: (next) => {
        next.spec!.tolerations = [{ key: 'spot', operator: 'Exists' }];
      },
      'pod affinity': (next) => {
        next.spec!.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }] } };
      },
      'pod anti-affinity': (next) => {
        next.spec!.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone' }] } };
      },
      uid: (next) => {
        next.metadata = { ...next.metadata, uid: 'uid-web-recreated' };
      },
    };
    for (const [what, change] of Object.entries(changes)) {
      const cache = cacheOf([node('n1')], [base]);
      const before = cache.nodeInfo('n1')!.pods.get('default/web')!;
      const update = version(base, change);
      cache.setBoundPod(update);
      const after = cache.nodeInfo('n1')!.pods.get('default/web')!;
      assert.notEqual(after, before, what);
      assert.deepEqual(accounting(after), accounting(podInfoOf(update)), what);
      assert.equal(cache.nodeInfo('n1')!.requested.get('cpu'), after.requests.get('cpu') ?? 0, what);
    }
  });

  test('the informer confirming an assumed binding keeps the assumption; another node replaces it', () => {
    const pending = pod('web', { cpu: '1', owner: 'rs' });
    const cache = cacheOf([node('n1'), node('n2')]);
    const assumed = podInfoOf(pending);
    cache.assume(assumed, 'n1');
    const binding = version(pending, (next) => {
      next.spec!.nodeName = 'n1';
    });
    const bound = withStatus(binding, { conditions: [{ type: 'PodScheduled', status: 'True' }] });
    cache.setBoundPod(bound);
    assert.equal(cache.isAssumed('default/web'), false);
    assert.equal(cache.nodeInfo('n1')!.pods.get('default/web'), assumed);
    assert.equal(assumed.pod, bound);
    assert.equal(cache.nodeInfo('n1')!.requested.get('cpu'), 1000);

    cache.setBoundPod(
      version(bound, (next) => {
        next.spec!.nodeName = 'n2';
      }),
    );
    assert.equal(cache.nodeOfPod('default/web')?.name, 'n2');
    assert.equal(cache.nodeInfo('n1')!.requested.get('cpu'), 0);
    assert.equal(cache.nodeInfo('n2')!.requested.get('cpu'), 1000);
  });
});

describe('sameJson', () => {
  test('compares decoded JSON deeply, ignoring key order and fields set to undefined', () => {
    assert.ok(sameJson({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }));
    assert.ok(sameJson({ a: 1, gone: undefined }, { a: 1 }));
    assert.ok(sameJson(undefined, undefined));
    assert.equal(sameJson({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(sameJson({ a: { b: null } }, { a: { b: false } }), false);
    assert.equal(sameJson([], {}), false);
    assert.equal(sameJson(undefined, {}), false);
    assert.equal(sameJson('1', 1), false);
  });
});

describe('node counts', () => {
  test('follow cordons, readiness and taints as nodes change and go', () => {
    const cache = cacheOf([node('a'), node('b')]);
    assert.deepEqual(cache.nodeCounts, { cordoned: 0, notReady: 0, noScheduleTainted: 0, preferNoScheduleTainted: 0 });
    cache.setNode(node('a', { unschedulable: true, taints: [{ key: 'x', effect: 'NoExecute' }, { key: 'y', effect: 'NoSchedule' }] }));
    cache.setNode(node('b', { ready: 'Unknown', taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }));
    cache.setNode(node('c', { ready: 'missing' }));
    assert.deepEqual(cache.nodeCounts, { cordoned: 1, notReady: 2, noScheduleTainted: 1, preferNoScheduleTainted: 1 }, 'a node counts once per kind');
    cache.setNode(node('a'));
    cache.setNode(node('b', { ready: 'False' }));
    assert.deepEqual(cache.nodeCounts, { cordoned: 0, notReady: 2, noScheduleTainted: 0, preferNoScheduleTainted: 0 });
    // A deleted node no longer counts, even while pods bound to it keep its entry.
    cache.setBoundPod(pod('p', { nodeName: 'b' }));
    cache.deleteNode('b');
    cache.deleteNode('c');
    cache.deleteNode('c');
    assert.deepEqual(cache.nodeCounts, { cordoned: 0, notReady: 0, noScheduleTainted: 0, preferNoScheduleTainted: 0 });
    cache.setNode(node('b', { ready: 'False' }));
    assert.equal(cache.nodeCounts.notReady, 1, 'a node that comes back counts again');
  });
});

