// Scheduling explanations, Jobs and DaemonSets on a real cluster of `skiff agent` processes on
// the one Docker engine, driven with the real kubectl. The tests share the cluster and run in
// order; the last one adds a third node.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/cluster.js';
import type { MultiNodeCluster } from '../helpers/multinode.js';
import { startMultiNodeCluster } from '../helpers/multinode.js';

function job(name: string, image: string, options: { script: string; completions: number; parallelism: number; backoffLimit: number }): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      completions: options.completions,
      parallelism: options.parallelism,
      backoffLimit: options.backoffLimit,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'work', image, imagePullPolicy: 'Never', command: ['sh', '-c', options.script] }],
        },
      },
    },
  });
}

describe('scheduling, Jobs and DaemonSets on a multi-node cluster', () => {
  let c: MultiNodeCluster;

  const kubectl = async (args: string[], input?: string) => {
    const out = await c.kubectl(args, { input });
    assert.equal(out.code, 0, `kubectl ${args.join(' ')}: ${out.stderr}`);
    return out.stdout;
  };

  before(async () => {
    c = await startMultiNodeCluster({ agents: 2 });
  });

  after(async () => {
    await c?.close();
  });

  test('a pod with an impossible request stays Pending and says why', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hog' },
      spec: {
        containers: [{ name: 'hog', image: c.docker.busyboxImage, imagePullPolicy: 'Never', command: ['sleep', '3600'], resources: { requests: { cpu: '1000' } } }],
      },
    }));
    const message = '0/2 nodes are available: 2 Insufficient cpu.';
    const describe = await eventually(async () => {
      const out = await kubectl(['describe', 'pod', 'hog']);
      return out.includes(message) ? out : undefined;
    }, 30_000, 'the scheduling failure in kubectl describe');
    assert.match(describe, /Status:\s+Pending/);
    assert.match(describe, new RegExp(`Warning\\s+FailedScheduling\\s+.*default-scheduler\\s+${message.replace(/[.]/g, '\\.')}`));
    assert.match(describe, /PodScheduled\s+False/);
    const condition = JSON.parse(await kubectl(['get', 'pod', 'hog', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")]}'])) as Record<string, string>;
    assert.equal(condition['status'], 'False');
    assert.equal(condition['reason'], 'Unschedulable');
    assert.equal(condition['message'], message);
    assert.match(await kubectl(['get', 'pod', 'hog', '--no-headers']), /^hog\s+0\/1\s+Pending\s/);
    assert.equal(await kubectl(['get', 'pod', 'hog', '-o', 'jsonpath={.spec.nodeName}']), '');
    await kubectl(['delete', 'pod', 'hog', '--wait=false']);
  });

  test('a Job runs to completion and a failing one stops at its backoffLimit', async () => {
    const image = c.docker.busyboxImage;
    await kubectl(['apply', '-f', '-'], job('works', image, { script: 'echo done', completions: 3, parallelism: 2, backoffLimit: 0 }));
    // backoffLimit 1: the first failure is retried (after the controller's 10 s back-off), the second is final.
    await kubectl(['apply', '-f', '-'], job('fails', image, { script: 'echo failing; exit 3', completions: 1, parallelism: 1, backoffLimit: 1 }));

    const complete = await c.kubectl(['wait', '--for=condition=complete', 'job/works', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(complete.code, 0, complete.stderr);
    assert.match(complete.stdout, /job.batch\/works condition met/);
    assert.match(await kubectl(['get', 'job', 'works', '--no-headers']), /^works\s+Complete\s+3\/3\s/);
    const works = JSON.parse(await kubectl(['get', 'job', 'works', '-o', 'json'])) as any;
    assert.equal(works.status.succeeded, 3);
    assert.ok(!works.status.active, 'nothing active once complete');
    const succeededPods = await kubectl(['get', 'pods', '-l', 'job-name=works', '--no-headers']);
    assert.equal(succeededPods.trim().split('\n').filter((l) => /\s0\/1\s+Completed\s/.test(l)).length, 3, succeededPods);

    const failed = await c.kubectl(['wait', '--for=condition=failed', 'job/fails', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(failed.code, 0, failed.stderr);
    const condition = JSON.parse(await kubectl(['get', 'job', 'fails', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")]}'])) as Record<string, string>;
    assert.equal(condition['status'], 'True');
    assert.equal(condition['reason'], 'BackoffLimitExceeded');
    assert.match(await kubectl(['get', 'job', 'fails', '--no-headers']), /^fails\s+Failed\s+0\/1\s/);
    // It stops there: two pods, both failed, and no third one.
    await new Promise((r) => setTimeout(r, 1500));
    const fails = JSON.parse(await kubectl(['get', 'job', 'fails', '-o', 'json'])) as any;
    assert.equal(fails.status.failed, 2);
    assert.ok(!fails.status.active, 'nothing active once failed');
    const failedPods = (await kubectl(['get', 'pods', '-l', 'job-name=fails', '--no-headers'])).trim().split('\n');
    assert.equal(failedPods.length, 2, failedPods.join('\n'));
    assert.ok(failedPods.every((l) => /\s0\/1\s+Error\s/.test(l)), failedPods.join('\n'));

    await kubectl(['delete', 'job', 'works', 'fails']);
  });

  test('a DaemonSet runs one pod per node and follows a third node joining', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agentd' },
      spec: {
        selector: { matchLabels: { app: 'agentd' } },
        template: {
          metadata: { labels: { app: 'agentd' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'agentd', image: c.docker.busyboxImage, imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
          },
        },
      },
    }));
    const onePerNode = (count: number) =>
      eventually(async () => {
        const rows = (await kubectl(['get', 'pods', '-l', 'app=agentd', '-o', 'wide', '--no-headers']))
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/));
        const nodes = rows.map((cols) => cols[6]).sort();
        const wanted = c.agents.map((a) => a.nodeName).sort();
        return rows.length === count && rows.every((cols) => cols[1] === '1/1' && cols[2] === 'Running') && JSON.stringify(nodes) === JSON.stringify(wanted) ? true : undefined;
      }, 60_000, `one running agentd pod on each of ${count} nodes`);

    const status = await c.kubectl(['rollout', 'status', 'daemonset/agentd', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(status.code, 0, status.stderr);
    await onePerNode(2);
    assert.match(await kubectl(['get', 'daemonset', 'agentd', '--no-headers']), /^agentd\s+2\s+2\s+2\s+2\s+2\s/);

    await c.addAgent();
    await onePerNode(3);
    await eventually(async () => (/^agentd\s+3\s+3\s+3\s+3\s+3\s/.test(await kubectl(['get', 'daemonset', 'agentd', '--no-headers'])) ? true : undefined), 30_000, 'agentd 3/3');
    await kubectl(['delete', 'daemonset', 'agentd']);
  });
});
