// Outages: with the API server down, pods keep running (and restarting by their policy) and the
// agent catches up when it returns; with the Docker engine unreachable, the node reports the
// runtime down, and when the engine is back the agent reconnects its event stream, sees what
// happened meanwhile (a container that died) and repairs it. The engine is reached through a
// TCP proxy that the test cuts (a daemon restart ends every connection the same way), so the
// shared engine itself is never restarted.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Agent } from '../../agent/agent.js';
import { startAgent } from '../../agent/agent.js';
import { KubeClient } from '../../api/client.js';
import type { ControlPlane } from '../../controlplane/controlplane.js';
import { startControlPlane } from '../../controlplane/controlplane.js';
import { eventually } from '../helpers/cluster.js';
import type { TestDocker } from '../helpers/docker.js';
import { acquireTestDocker, removeLabelled, TEST_LABEL } from '../helpers/docker.js';
import { condition, containerStatus, FAST_TIMINGS, shell, uniqueName } from './harness.js';

/** A TCP front for the Docker socket that can be cut and restored on the same port. */
class DockerProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly socketPath: string) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.socketPath);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

describe('agent: outages', () => {
  let docker: TestDocker;
  let dir: string;
  let controlPlane: ControlPlane;
  let port: number;
  let admin: KubeClient;
  let agent: Agent;
  const proxy = new DockerProxy('/var/run/docker.sock');
  const nodeName = uniqueName('node');
  const podCidr = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 256)}.0/24`;
  const logger = pino({ level: process.env['SKIFF_TEST_LOG'] ?? 'silent' });

  const startServer = async () => {
    controlPlane = await startControlPlane({
      dataDir: join(dir, 'server'),
      bindAddress: '127.0.0.1',
      port,
      serviceCidr: '10.43.0.0/16',
      nodePortRange: '30000-32767',
      logger,
    });
    port = Number(new URL(controlPlane.url).port);
  };
  const api = <T = any>(method: string, path: string, body?: unknown, contentType?: string) => admin.request<T>(method, path, { body, contentType });
  const getPod = (name: string) => api(`GET`, `/api/v1/namespaces/default/pods/${name}`);

  before(async () => {
    docker = await acquireTestDocker();
    dir = await mkdtemp(join(tmpdir(), 'skiff-outage-'));
    port = 0;
    await startServer();
    admin = new KubeClient({ server: controlPlane.url, token: controlPlane.adminToken, caPem: controlPlane.caCertPem });
    await proxy.open();
    agent = await startAgent({
      kubeconfig: controlPlane.kubeconfigPath,
      nodeName,
      nodeIp: '127.0.0.1',
      dataDir: join(dir, 'agent'),
      dockerHost: `tcp://127.0.0.1:${proxy.port}`,
      podInfraImage: docker.pauseImage,
      dockerLabels: { [TEST_LABEL]: '1' },
      logger,
      ...FAST_TIMINGS,
    });
    await eventually(async () => (await api('PATCH', `/api/v1/nodes/${nodeName}`, { spec: { podCIDR: podCidr } }, 'application/merge-patch+json')) ?? undefined, 20_000, 'node registered');
    await agent.ready;
  });
  after(async () => {
    await agent?.close();
    await proxy.cut();
    await removeLabelled(docker.docker, `skiff.node=${nodeName}`);
    await admin?.close();
    await controlPlane?.close();
    await rm(dir, { recursive: true, force: true });
    await docker.release();
  });

  test('with the API server down, pods keep running and restarting; the agent catches up when it returns', async () => {
    const image = docker.busyboxImage;
    for (const pod of [
      { metadata: { name: 'steady' }, spec: { nodeName, containers: [shell('main', image, 'exec sleep 3600')] } },
      { metadata: { name: 'crashy' }, spec: { nodeName, containers: [shell('main', image, 'sleep 1; exit 1')] } },
    ]) {
      await api('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', ...pod });
    }
    await eventually(async () => (condition(await getPod('steady'), 'Ready') === 'True' ? true : undefined), 30_000, 'steady Ready');
    await eventually(async () => ((containerStatus(await getPod('crashy'), 'main')?.restartCount ?? 0) >= 1 ? true : undefined), 30_000, 'crashy restarted');
    const steadyId = containerStatus(await getPod('steady'), 'main').containerID.replace('docker://', '');

    await controlPlane.close();
    const restartsBefore = Math.max(
      ...(await docker.docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=crashy', 'io.kubernetes.container.name=main'] } })).map((c) =>
        Number(c.Labels['skiff.restart-count']),
      ),
    );
    // At least 6 s of outage, and until the crashing pod restarts (its back-off may have grown).
    const outageAt = Date.now();
    const restartsDuring = await eventually(async () => {
      const restarts = Math.max(
        ...(await docker.docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=crashy', 'io.kubernetes.container.name=main'] } })).map((c) =>
          Number(c.Labels['skiff.restart-count']),
        ),
      );
      return restarts > restartsBefore && Date.now() - outageAt >= 6000 ? restarts : undefined;
    }, 30_000, `the crashing pod to restart during the outage (${restartsBefore} before)`);
    const steady = await docker.docker.getContainer(steadyId).inspect();
    assert.equal(steady.State.Running, true, 'the steady pod kept running');

    const downAt = Date.now();
    await startServer();
    await eventually(async () => ((containerStatus(await getPod('crashy'), 'main')?.restartCount ?? 0) >= restartsDuring ? true : undefined), 30_000, 'status caught up');
    const lease = await eventually(async () => {
      const l = await api('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`);
      return Date.parse(l.spec.renewTime) > downAt ? l : undefined;
    }, 20_000, 'lease renewed after the outage');
    assert.equal(lease.spec.holderIdentity, nodeName);
    assert.equal(containerStatus(await getPod('steady'), 'main').restartCount, 0);
    await api('DELETE', '/api/v1/namespaces/default/pods/crashy?gracePeriodSeconds=0');
  });

  test('with the Docker engine unreachable the node is NotReady; on reconnection the agent repairs what died meanwhile', async () => {
    const before = await getPod('steady');
    const id = containerStatus(before, 'main').containerID.replace('docker://', '');
    await proxy.cut();
    const node = await eventually(async () => {
      const n = await api('GET', `/api/v1/nodes/${nodeName}`);
      return condition(n, 'Ready') === 'False' ? n : undefined;
    }, 20_000, 'node NotReady');
    assert.match(node.status.conditions.find((c: any) => c.type === 'Ready').message, /container runtime is down/);
    // What a daemon restart does to containers, done behind the agent's back.
    await docker.docker.getContainer(id).kill();
    await proxy.open();
    await eventually(async () => (condition(await api('GET', `/api/v1/nodes/${nodeName}`), 'Ready') === 'True' ? true : undefined), 20_000, 'node Ready again');
    const after = await eventually(async () => {
      const p = await getPod('steady');
      const s = containerStatus(p, 'main');
      return s?.restartCount === 1 && s.state.running && condition(p, 'Ready') === 'True' ? p : undefined;
    }, 30_000, 'the killed container restarted');
    assert.equal(containerStatus(after, 'main').lastState.terminated.exitCode, 137);
  });
});
