// LimitRanges and ResourceQuotas against a real API server with the resourcequota controller:
// LimitRange defaults filled into a new pod and its max refused with Kubernetes' 403; a pod
// quota that refuses the third pod, gives quota back when a pod is deleted; an object count
// quota on configmaps; a requests.cpu quota that refuses a pod without a cpu request; and
// kubectl's create quota (a protobuf body), get quota and describe quota.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { ResourceQuotaController } from '../../controlplane/controllers/resourcequota/controller.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { startControllers } from '../controllers/workload-harness.js';
import type { RunningControllers } from '../controllers/workload-harness.js';

const pods = resourceFor('', 'pods');
const quotas = resourceFor('', 'resourcequotas');
type Quota = ResourceQuota & KubeObject;

function pod(name: string, resources?: Record<string, unknown>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'web', image: 'busybox', ...(resources ? { resources } : {}) }] } };
}

describe('LimitRange and ResourceQuota admission', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;

  const createIn = (ns: string, body: unknown) => c.api<{ message?: string; reason?: string }>('POST', `/api/v1/namespaces/${ns}/pods`, { body });
  const namespace = async (name: string) => assert.equal((await c.api('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } })).status, 201);
  /** Creates a quota and waits for the controller's first status (admission ignores it until then). */
  async function quota(ns: string, name: string, hard: Record<string, string>): Promise<void> {
    await client.create(quotas, ns, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard } });
    await eventually(async () => ((await client.get<Quota>(quotas, ns, name)).status?.used ? true : undefined), 10_000, `quota ${name} to be computed`);
  }

  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new ResourceQuotaController()]);
    client = run.client;
  });
  after(async () => {
    await run?.stop();
    await c?.close();
  });

  test('kubectl apply of a LimitRange; its defaults are filled into a new pod; its max refuses with 403', async () => {
    await namespace('lr');
    const manifest = `apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
`;
    const applied = await c.kubectl(['apply', '-n', 'lr', '-f', '-'], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /limitrange\/limits created/);
    // memory's request defaults to its default limit (the LimitRange's own defaulting).
    const stored = await c.api<{ spec: { limits: { defaultRequest: Record<string, string> }[] } }>('GET', '/api/v1/namespaces/lr/limitranges/limits');
    assert.deepEqual(stored.body.spec.limits[0]!.defaultRequest, { cpu: '100m', memory: '128Mi' });
    await eventually(async () => {
      const res = await c.api<Pod>('POST', '/api/v1/namespaces/lr/pods?dryRun=All', { body: pod('probe') });
      return res.body.spec?.containers[0]?.resources?.limits ? true : undefined;
    }, 5_000, 'the LimitRange to reach admission');

    const created = await createIn('lr', pod('defaulted', { requests: { cpu: '200m' } }));
    assert.equal(created.status, 201);
    const resources = (created.body as Pod).spec!.containers[0]!.resources;
    assert.deepEqual(resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '200m', memory: '128Mi' } });
    assert.equal((created.body as Pod).metadata?.annotations?.['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: memory request for container web; cpu, memory limit for container web');

    const refused = await createIn('lr', pod('big', { limits: { cpu: '2' } }));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.reason, 'Forbidden');
    assert.equal(refused.body.message, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');

    const listed = await c.kubectl(['get', 'limits', '-n', 'lr']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+CREATED AT\nlimits\s+\d{4}-/);
    const described = await c.kubectl(['describe', 'limits', 'limits', '-n', 'lr']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /Container\s+cpu\s+-\s+1\s+100m\s+500m\s+-/);
  });

  test('a pods=2 quota refuses the third pod; deleting one gives its quota back', async () => {
    await namespace('q1');
    await quota('q1', 'q', { pods: '2' });
    assert.equal((await createIn('q1', pod('a'))).status, 201);
    assert.equal((await createIn('q1', pod('b'))).status, 201);
    const refused = await createIn('q1', pod('c'));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message, 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    assert.deepEqual((await client.get<Quota>(quotas, 'q1', 'q')).status?.used, { pods: '2' });

    await client.delete(pods, 'q1', 'a', { gracePeriodSeconds: 0 });
    await eventually(async () => ((await client.get<Quota>(quotas, 'q1', 'q')).status?.used?.['pods'] === '1' ? true : undefined), 10_000, 'the quota to be given back');
    assert.equal((await createIn('q1', pod('c'))).status, 201);
  });

  test('an object count quota on configmaps', async () => {
    await namespace('q2');
    await quota('q2', 'objects', { 'count/configmaps': '1', configmaps: '5' });
    const cm = (name: string) => c.api<{ message?: string }>('POST', '/api/v1/namespaces/q2/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } } });
    assert.equal((await cm('one')).status, 201);
    const refused = await cm('two');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message, 'configmaps "two" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1');
    // Other kinds are not charged.
    assert.equal((await createIn('q2', pod('free'))).status, 201);
  });

  test('a requests.cpu quota refuses a pod that does not request cpu, charges one that does', async () => {
    await namespace('q3');
    await quota('q3', 'compute', { 'requests.cpu': '1', pods: '10' });
    const refused = await createIn('q3', pod('bare'));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message, 'pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: web');
    assert.equal((await createIn('q3', pod('small', { requests: { cpu: '600m' } }))).status, 201);
    const over = await createIn('q3', pod('more', { requests: { cpu: '600m' } }));
    assert.equal(over.status, 403);
    assert.equal(over.body.message, 'pods "more" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1');
  });

  test('kubectl create quota, get quota and describe quota', async () => {
    await namespace('q4');
    const created = await c.kubectl(['create', 'quota', 'q', '-n', 'q4', '--hard=pods=2,requests.cpu=1']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /resourcequota\/q created/);
    await eventually(async () => ((await client.get<Quota>(quotas, 'q4', 'q')).status?.used ? true : undefined), 10_000, 'the quota to be computed');
    assert.equal((await createIn('q4', pod('p', { requests: { cpu: '500m' } }))).status, 201);
    const listed = await c.kubectl(['get', 'quota', '-n', 'q4']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+AGE\s+REQUEST\s+LIMIT\n/);
    assert.match(listed.stdout, /\nq\s+\S+\s+pods: 1\/2, requests.cpu: 500m\/1\s*\n/);
    const described = await c.kubectl(['describe', 'quota', 'q', '-n', 'q4']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /Resource\s+Used\s+Hard\n/);
    assert.match(described.stdout, /pods\s+1\s+2\n/);
    assert.match(described.stdout, /requests.cpu\s+500m\s+1\n/);
  });
});
