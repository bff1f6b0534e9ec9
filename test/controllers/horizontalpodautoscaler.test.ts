// The HorizontalPodAutoscaler controller against a real API server, with pod usage from a fake
// metrics source: `kubectl autoscale` creates an autoscaling/v1 HPA (kubectl 1.32 posts it as
// protobuf) that `kubectl get hpa` and `kubectl describe hpa` show; usage over the target scales
// the Deployment through its scale subresource with Kubernetes' status, conditions and events;
// missing metrics, unsupported metric types and a missing target are reported, not fatal. The
// test plays the agents' part (pods and their status).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { KubeClient } from '../../api/client.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { HorizontalPodAutoscalerController } from '../../controlplane/controllers/podautoscaler/controller.js';
import type { ResourceMetricsSource } from '../../controlplane/controllers/podautoscaler/metrics.js';
import type { PodMetric } from '../../controlplane/controllers/podautoscaler/replicas.js';
import { ReplicaCalculationError } from '../../controlplane/controllers/podautoscaler/replicas.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { podsResource, recordVersions, setPodStatus, startControllers } from './workload-harness.js';
import type { RunningControllers } from './workload-harness.js';

const deployments = resourceFor('apps', 'deployments');
const hpas = resourceFor('autoscaling', 'horizontalpodautoscalers');
const events = resourceFor('', 'events');
type Hpa = HorizontalPodAutoscaler & KubeObject;

/** CPU usage per pod name, in millicores; a pod not listed has no metrics. */
const cpuUsage = new Map<string, number>();
const fakeMetrics: ResourceMetricsSource = {
  async podUsage(_namespace, _selector, resource) {
    if (cpuUsage.size === 0) throw new ReplicaCalculationError('no metrics returned from resource metrics API');
    const out = new Map<string, PodMetric>();
    for (const [name, milli] of cpuUsage) out.set(name, { milliValue: resource === 'cpu' ? milli : 1000, timestampMs: Date.now(), windowMs: 10_000 });
    return out;
  },
};

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } },
    },
  };
}

describe('HorizontalPodAutoscaler controller', () => {
  let c: TestCluster;
  let run: RunningControllers;
  let client: KubeClient;

  before(async () => {
    c = await startTestCluster();
    run = await startControllers(c, [new HorizontalPodAutoscalerController({ syncPeriodMs: 300, metrics: fakeMetrics })]);
    client = run.client;
  });
  after(async () => {
    await run?.stop();
    await c?.close();
  });

  /** A running pod of deployment `app` that has been ready for a minute. */
  async function readyPod(app: string, name: string): Promise<void> {
    await client.create(podsResource, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
    });
    await setPodStatus(client, 'default', name, { readyForMs: 60_000 });
  }

  const hpa = async (name: string) => client.get<Hpa>(hpas, 'default', name);
  const condition = (h: Hpa, type: string) => h.status?.conditions?.find((x) => x.type === type);
  const eventsOf = async (name: string) =>
    (await client.list(events, 'default', { fieldSelector: `involvedObject.name=${name},involvedObject.kind=HorizontalPodAutoscaler` })).items.map(
      (e) => `${e['type']} ${e['reason']} ${e['message']}`,
    );

  test('kubectl autoscale; usage over the target scales the Deployment up', async () => {
    await client.create(deployments, 'default', deployment('web'));
    await readyPod('web', 'web-a');
    const created = await c.kubectl(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=4']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), 'horizontalpodautoscaler.autoscaling/web autoscaled');

    const listed = await c.kubectl(['get', 'hpa']);
    assert.match(listed.stdout, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
    assert.match(listed.stdout, /\nweb\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+4\s+\d+\s+\S+\n$/);

    // 90m of a 100m request: 90% against 50% asks for ceil(1.8 × 1) = 2 pods. The status of the
    // sync that rescaled lasts only until the next sync (300 ms here), so the test takes it from a
    // watch: a poll on a loaded machine can miss it.
    const history = recordVersions<Hpa>(client, hpas, 'default', 'web', (await hpa('web')).metadata!.resourceVersion!);
    cpuUsage.set('web-a', 90);
    const scaled = await eventually(() => history.versions.find((h) => h.status?.desiredReplicas === 2), 10_000, 'the HPA to scale to 2').finally(() => history.stop());
    assert.equal(((await client.get(deployments, 'default', 'web'))['spec'] as { replicas: number }).replicas, 2);
    assert.equal(scaled.status?.currentReplicas, 1);
    assert.ok(scaled.status?.lastScaleTime);
    assert.deepEqual(scaled.status?.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }]);
    assert.equal(condition(scaled, 'AbleToScale')?.reason, 'SucceededRescale');
    assert.equal(condition(scaled, 'AbleToScale')?.message, 'the HPA controller was able to update the target scale to 2');
    assert.equal(condition(scaled, 'ScalingActive')?.reason, 'ValidMetricFound');
    assert.equal(condition(scaled, 'ScalingActive')?.message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    assert.equal(condition(scaled, 'ScalingLimited')?.status, 'False');
    await eventually(async () => ((await eventsOf('web')).includes('Normal SuccessfulRescale New size: 2; reason: cpu resource utilization (percentage of request) above target') ? true : undefined), 5000, 'the rescale event');

    // The autoscaling/v1 view of the same object.
    const v1 = (await c.api('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web')).body;
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
    assert.equal(v1.status.currentCPUUtilizationPercentage, 90);
    assert.ok(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions']);

    // REPLICAS is status.currentReplicas, the target's spec.replicas when the HPA last synced: 1
    // until a sync after the rescale (every 300 ms here) reads 2.
    const row = await c.kubectl(['get', 'hpa', 'web', '--no-headers']);
    assert.match(row.stdout, /^web\s+Deployment\/web\s+cpu: 90%\/50%\s+1\s+4\s+[12]\s+\S+\n$/);
    const described = await c.kubectl(['describe', 'hpa', 'web']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /resource cpu on pods\s+\(as a percentage of request\):\s+90% \(90m\) \/ 50%/);
    // The controller syncs every 300 ms here: by now a later sync may have found the new size
    // matching its recommendation (SucceededRescale was checked on the status above).
    assert.match(described.stdout, /AbleToScale\s+True\s+(SucceededRescale|ReadyForNewScale)/);
    assert.match(described.stdout, /SuccessfulRescale\s.*New size: 2; reason: cpu resource utilization \(percentage of request\) above target/);
  });

  test('without metrics: ScalingActive False, the warnings Kubernetes gives, no scaling', async () => {
    cpuUsage.clear();
    await client.create(deployments, 'default', deployment('quiet'));
    await readyPod('quiet', 'quiet-a');
    await client.create(hpas, 'default', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'quiet' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'quiet' }, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    } as Hpa);
    const h = await eventually(async () => {
      const got = await hpa('quiet');
      return condition(got, 'ScalingActive') ? got : undefined;
    }, 10_000, 'a ScalingActive condition');
    assert.deepEqual([condition(h, 'ScalingActive')?.status, condition(h, 'ScalingActive')?.reason], ['False', 'FailedGetResourceMetric']);
    assert.equal(
      condition(h, 'ScalingActive')?.message,
      'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    );
    assert.equal(h.status?.currentReplicas, 1);
    await eventually(async () => {
      const seen = await eventsOf('quiet');
      return seen.includes(
        'Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      ) && seen.includes('Warning FailedGetResourceMetric failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API')
        ? true
        : undefined;
    }, 5000, 'the warnings');
  });

  test('Pods and External metrics are not supported: a clear condition, never a crash', async () => {
    await client.create(hpas, 'default', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'custom' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'quiet' },
        maxReplicas: 3,
        metrics: [
          { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } },
          { type: 'External', external: { metric: { name: 'queue_length' }, target: { type: 'Value', value: '30' } } },
        ],
      },
    } as Hpa);
    const h = await eventually(async () => {
      const got = await hpa('custom');
      return condition(got, 'ScalingActive') ? got : undefined;
    }, 10_000, 'a ScalingActive condition');
    assert.deepEqual([condition(h, 'ScalingActive')?.status, condition(h, 'ScalingActive')?.reason], ['False', 'FailedGetPodsMetric']);
    assert.equal(condition(h, 'ScalingActive')?.message, 'the HPA was unable to compute the replica count: unable to get metric requests_per_second: Skiff serves no custom metrics API (custom.metrics.k8s.io)');
    assert.deepEqual(h.status?.currentMetrics, [{ type: '' }, { type: '' }]);
  });

  test('a target that does not exist: AbleToScale False with FailedGetScale', async () => {
    await client.create(hpas, 'default', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'orphan' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nothing' }, maxReplicas: 3 },
    } as Hpa);
    const h = await eventually(async () => {
      const got = await hpa('orphan');
      return condition(got, 'AbleToScale') ? got : undefined;
    }, 10_000, 'an AbleToScale condition');
    assert.deepEqual([condition(h, 'AbleToScale')?.status, condition(h, 'AbleToScale')?.reason], ['False', 'FailedGetScale']);
    assert.equal(condition(h, 'AbleToScale')?.message, `the HPA controller was unable to get the target's current scale: deployments.apps "nothing" not found`);
  });

  test('the API refuses an invalid HPA with Kubernetes\' messages', async () => {
    const res = await c.api('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
      body: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { minReplicas: 3, maxReplicas: 2 } },
    });
    assert.equal(res.status, 422);
    assert.equal(
      res.body.message,
      'HorizontalPodAutoscaler.autoscaling "bad" is invalid: [spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`, spec.scaleTargetRef.kind: Required value, spec.scaleTargetRef.name: Required value]',
    );
    const v1 = await c.api('POST', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers', {
      body: { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 0, maxReplicas: 2 } },
    });
    assert.equal(v1.status, 422);
    assert.match(v1.body.message, /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/);
  });
});
