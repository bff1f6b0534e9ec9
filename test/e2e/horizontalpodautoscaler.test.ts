// A HorizontalPodAutoscaler end to end: the real kubectl, a control plane with its scheduler and
// controllers (the HPA's sync period shortened to 2 s), an agent on a real Docker engine whose
// usage sampler runs every second, and a Deployment of one busy-looping busybox pod requesting
// 100m CPU. `kubectl autoscale --cpu-percent=50 --max=3` must take it to 3 replicas, reading the
// pod's usage through the metrics.k8s.io API as kube-controller-manager does.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { acquireTestDocker } from '../helpers/docker.js';
import type { TestDocker } from '../helpers/docker.js';
import { startJoinedAgent } from '../helpers/joined-agent.js';
import type { JoinedAgent } from '../helpers/joined-agent.js';
import { testClusterCidr } from '../helpers/multinode.js';

describe('kubectl autoscale against a real agent on Docker', () => {
  let docker: TestDocker;
  let cluster: TestCluster;
  let joined: JoinedAgent;
  const nodeName = `hpa-${randomBytes(3).toString('hex')}`;

  before(async () => {
    docker = await acquireTestDocker();
    cluster = await startTestCluster({
      controllerManager: {
        controllers: { clusterCidr: testClusterCidr(), horizontalPodAutoscalerSyncPeriodMs: 2000 },
      },
    });
    await cluster.controlPlane.controllerManager?.whenLeading();
    joined = await startJoinedAgent(cluster, docker, nodeName);
    await eventually(async () => {
      const node = (await cluster.api('GET', `/api/v1/nodes/${nodeName}`)).body;
      const ready = node.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
      return ready && node.spec?.podCIDR ? true : undefined;
    }, 30_000, 'the node to be Ready with a pod CIDR');
  });

  after(async () => {
    await joined?.close();
    await cluster?.close();
    await docker?.release();
  });

  test('a busy pod at 100m requested scales its Deployment from 1 to the maximum of 3', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'burn' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'burn' } },
        template: {
          metadata: { labels: { app: 'burn' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              { name: 'burn', image: docker.busyboxImage, imagePullPolicy: 'Never', command: ['sh', '-c', 'while :; do :; done'], resources: { requests: { cpu: '100m' } } },
            ],
          },
        },
      },
    };
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    assert.equal(applied.code, 0, applied.stderr);
    await eventually(async () => ((await cluster.kubectl(['top', 'pods', '-l', 'app=burn', '--no-headers'])).stdout.match(/burn-\S+\s+\d+m/) ? true : undefined), 60_000, 'kubectl top to show the pod');

    const autoscaled = await cluster.kubectl(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=3']);
    assert.equal(autoscaled.code, 0, autoscaled.stderr);
    const started = Date.now();
    await eventually(async () => {
      const d = (await cluster.api('GET', '/apis/apps/v1/namespaces/default/deployments/burn')).body;
      return d.spec?.replicas === 3 ? true : undefined;
    }, 60_000, 'the Deployment to be scaled to 3');
    const tookMs = Date.now() - started;

    const row = await cluster.kubectl(['get', 'hpa', 'burn', '--no-headers']);
    assert.match(row.stdout, /^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+\d+\s+\S+\n$/, row.stdout);
    // The event is written in the background, after the scale.
    await eventually(async () => {
      const events = await cluster.kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
      return /New size: 3; reason: cpu resource utilization \(percentage of request\) above target/.test(events.stdout) ? true : undefined;
    }, 10_000, 'the SuccessfulRescale event to 3');
    const hpa = (await cluster.api('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/burn')).body;
    const limited = hpa.status.conditions.find((c: { type: string }) => c.type === 'ScalingLimited');
    assert.equal(limited?.reason, 'TooManyReplicas');
    assert.ok(tookMs < 60_000, `scaled in ${tookMs} ms`);
  });
});
