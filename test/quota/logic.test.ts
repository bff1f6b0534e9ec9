// The admission and controller logic without a server: LimitRanger's defaults and its
// min/max/ratio messages for Container and Pod items, quota charges and refusals, and the
// controller's recount (terminal pods hold no compute quota).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LimitRange, Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { defaultPodResources, limitRangeViolation } from '../../controlplane/apiserver/admission/limitranger.js';
import { chargeQuotas, QuotaRefusal } from '../../controlplane/apiserver/admission/resourcequota.js';
import type { QuotaObject } from '../../controlplane/apiserver/admission/resourcequota.js';
import { quotaStatus } from '../../controlplane/controllers/resourcequota/usage.js';

const pods = resourceFor('', 'pods');
const configmaps = resourceFor('', 'configmaps');

function pod(containers: { name: string; requests?: Record<string, string>; limits?: Record<string, string> }[], phase?: string): Pod & KubeObject {
  return {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { containers: containers.map(({ name, requests, limits }) => ({ name, image: 'x', resources: { ...(requests && { requests }), ...(limits && { limits }) } })) },
    ...(phase ? { status: { phase } } : {}),
  };
}

function limitRange(limits: LimitRange['spec'] extends infer S ? (S extends { limits: infer L } ? L : never) : never): LimitRange {
  return { metadata: { name: 'lr' }, spec: { limits } };
}

function quota(hard: Record<string, string>, used?: Record<string, string>): QuotaObject {
  return { metadata: { name: 'q', namespace: 'ns', resourceVersion: '7' }, spec: { hard }, status: { hard, ...(used && { used }) } } as QuotaObject;
}

describe('LimitRanger', () => {
  test('defaults fill only what is missing, in containers and init containers', () => {
    const p = pod([{ name: 'a', limits: { cpu: '1' }, requests: { cpu: '1' } }]);
    p.spec!.initContainers = [{ name: 'init', image: 'x' }];
    defaultPodResources(p, [limitRange([{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '250m' } }])]);
    assert.deepEqual(p.spec!.containers[0]!.resources, { limits: { cpu: '1' }, requests: { cpu: '1' } });
    assert.deepEqual(p.spec!.initContainers[0]!.resources, { limits: { cpu: '500m' }, requests: { cpu: '250m' } });
  });

  test('Container min, max and ratio in Kubernetes’ words', () => {
    const lr = [limitRange([{ type: 'Container', max: { cpu: '1' } }])];
    assert.equal(limitRangeViolation(pod([{ name: 'a', limits: { cpu: '2' } }]), lr), 'maximum cpu usage per Container is 1, but limit is 2');
    assert.equal(limitRangeViolation(pod([{ name: 'a' }]), lr), 'maximum cpu usage per Container is 1.  No limit is specified');
    const min = [limitRange([{ type: 'Container', min: { memory: '64Mi' } }])];
    assert.equal(limitRangeViolation(pod([{ name: 'a', requests: { memory: '32Mi' } }]), min), 'minimum memory usage per Container is 64Mi, but request is 32Mi');
    const ratio = [limitRange([{ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }])];
    assert.equal(
      limitRangeViolation(pod([{ name: 'a', requests: { cpu: '100m' }, limits: { cpu: '300m' } }]), ratio),
      'cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000',
    );
    assert.equal(limitRangeViolation(pod([{ name: 'a', requests: { cpu: '100m' }, limits: { cpu: '200m' } }]), ratio), undefined);
  });

  test('Pod max sums the containers; several violations are aggregated', () => {
    const lr = [limitRange([{ type: 'Pod', max: { cpu: '1', memory: '1Gi' } }])];
    const p = pod([
      { name: 'a', limits: { cpu: '600m', memory: '1Gi' } },
      { name: 'b', limits: { cpu: '600m', memory: '1Gi' } },
    ]);
    assert.equal(limitRangeViolation(p, lr), '[maximum cpu usage per Pod is 1, but limit is 1200m, maximum memory usage per Pod is 1Gi, but limit is 2Gi]');
  });
});

describe('quota admission', () => {
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof QuotaRefusal) return err.message;
      throw err;
    }
    return undefined;
  };

  test('a pod is charged its count and compute resources', () => {
    const charges = chargeQuotas(pods, pod([{ name: 'a', requests: { cpu: '250m' } }]), [quota({ pods: '2', 'requests.cpu': '1' }, { pods: '1', 'requests.cpu': '500m' })]);
    assert.deepEqual(charges.map((c) => c.used), [{ pods: '2', 'requests.cpu': '750m' }]);
  });

  test('refusals: exceeded, unknown status, missing requests', () => {
    assert.equal(refusal(() => chargeQuotas(pods, pod([{ name: 'a' }]), [quota({ pods: '1' }, { pods: '1' })])), 'exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1');
    assert.equal(refusal(() => chargeQuotas(pods, pod([{ name: 'a' }]), [quota({ pods: '1' })])), 'status unknown for quota: q, resources: pods');
    assert.equal(
      refusal(() => chargeQuotas(pods, pod([{ name: 'a' }, { name: 'b', limits: { cpu: '1' } }]), [quota({ 'limits.cpu': '2', 'requests.memory': '1Gi' }, {})])),
      'failed quota: q: must specify limits.cpu for: a; requests.memory for: a,b',
    );
  });

  test('a quota the controller has not computed does not apply; other kinds are not charged by pod quotas', () => {
    const fresh = { metadata: { name: 'q', namespace: 'ns', resourceVersion: '1' }, spec: { hard: { pods: '0' } } } as QuotaObject;
    assert.deepEqual(chargeQuotas(pods, pod([{ name: 'a' }]), [fresh]), []);
    assert.deepEqual(chargeQuotas(configmaps, { metadata: { name: 'c' } }, [quota({ pods: '1' }, { pods: '1' })]), []);
    assert.deepEqual(chargeQuotas(configmaps, { metadata: { name: 'c' } }, [quota({ configmaps: '2' }, { configmaps: '1' })]).map((c) => c.used), [{ configmaps: '2' }]);
  });
});

describe('quota controller recount', () => {
  test('hard is copied from spec; terminal pods count only in count/pods', () => {
    const q: ResourceQuota = { metadata: { name: 'q' }, spec: { hard: { pods: '5', 'count/pods': '5', 'requests.cpu': '2', 'services.nodeports': '1' } } };
    const status = quotaStatus(q, new Map([[pods, [pod([{ name: 'a', requests: { cpu: '1' } }]), pod([{ name: 'b', requests: { cpu: '1' } }], 'Succeeded')]]]));
    assert.deepEqual(status, { hard: q.spec!.hard, used: { 'count/pods': '2', pods: '1', 'requests.cpu': '1' } });
  });
});
