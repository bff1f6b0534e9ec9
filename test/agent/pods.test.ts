// The agent runs pods on a real Docker engine: sandbox and shared localhost, init containers in
// order, configuration from ConfigMaps and Secrets, per-pod hosts and resolv.conf, graceful
// deletion, logs and resource usage, and the node it registers.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/cluster.js';
import { openWatch } from '../helpers/watch.js';
import type { AgentHarness } from './harness.js';
import { condition, containerStatus, shell, startAgentHarness } from './harness.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

describe('agent: running pods', () => {
  let h: AgentHarness;
  let image: string;
  before(async () => {
    h = await startAgentHarness();
    image = h.docker.busyboxImage;
  });
  after(async () => {
    await h?.close();
  });

  test('registers the node with capacity, nodeInfo, conditions and a lease', async () => {
    const node = await eventually(async () => {
      const res = await h.cluster.api('GET', `/api/v1/nodes/${h.nodeName}`);
      return condition(res.body, 'Ready') === 'True' ? res.body : undefined;
    }, 20_000, 'node Ready');
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], h.nodeName);
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^docker:\/\/\d+/);
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.32.0-skiff');
    assert.equal(node.status.capacity.pods, '110');
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, 10250);
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const c = node.status.conditions.find((x: any) => x.type === type);
      assert.equal(c.status, 'False', `${type}: ${c.message}`);
    }
    const lease = await h.cluster.api('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${h.nodeName}`);
    assert.equal(lease.status, 200);
    assert.equal(lease.body.spec.holderIdentity, h.nodeName);
    assert.equal(lease.body.metadata.ownerReferences[0].uid, node.metadata.uid);
    const firstRenew = lease.body.spec.renewTime;
    await eventually(async () => {
      const again = await h.cluster.api('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${h.nodeName}`);
      return again.body.spec.renewTime !== firstRenew ? true : undefined;
    }, 5000, 'lease renewal');
    const nodeEvents = await eventually(async () => {
      const res = await h.cluster.api('GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${h.nodeName}`);
      const reasons = (res.body.items ?? []).map((e: any) => e.reason);
      return reasons.includes('NodeReady') ? reasons : undefined;
    }, 10_000, 'node events');
    for (const reason of ['Starting', 'NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID']) assert.ok(nodeEvents.includes(reason), `${reason} in ${nodeEvents}`);
    const networks = await h.docker.docker.listNetworks({ filters: { label: [`skiff.node=${h.nodeName}`] } });
    assert.equal(networks.length, 1);
    assert.equal(networks[0]!.IPAM?.Config?.[0]?.Subnet, h.podCidr);
  });

  test('containers of a pod share localhost; the pod is 2/2 Running with an IP from the pod CIDR', async () => {
    await h.createPod({
      metadata: { name: 'pair' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          shell('web', image, 'echo hello-from-web > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'),
          shell('client', image, 'until wget -q -O /tmp/got http://127.0.0.1:8080/index.html; do sleep 0.2; done; cat /tmp/got; exec sleep 3600'),
        ],
      },
    });
    const pod = await h.waitForPod('pair', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 30_000, 'Ready');
    assert.equal(pod.status.phase, 'Running');
    const prefix = h.podCidr.split('.').slice(0, 3).join('.');
    assert.ok(pod.status.podIP.startsWith(`${prefix}.`), pod.status.podIP);
    assert.equal(pod.status.hostIP, '127.0.0.1');
    for (const type of ['PodScheduled', 'PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']) assert.equal(condition(pod, type), 'True', type);
    const web = containerStatus(pod, 'web');
    assert.match(web.containerID, /^docker:\/\/[0-9a-f]{64}$/);
    assert.match(web.imageID, /^docker:\/\/sha256:/);
    assert.equal(web.started, true);
    assert.ok(web.state.running.startedAt);
    const get = await h.cluster.kubectl(['get', 'pod', 'pair', '--no-headers']);
    assert.match(get.stdout, /pair\s+2\/2\s+Running\s+0/);
    // The client container reached the web container over the pod's localhost.
    const logs = await eventually(async () => {
      const text = await readAll(await h.agent!.logs.logs('default', 'pair', 'client', {}, new AbortController().signal));
      return text.includes('hello-from-web') ? text : undefined;
    }, 10_000, 'client log');
    // (wget may have complained before httpd listened; the last line is what it fetched)
    assert.equal(logs.trim().split('\n').at(-1), 'hello-from-web');
    // Each container's Pulled, Created and Started (the events of the last may still be on their way).
    const expected = ['web', 'client'].flatMap((name) => ['Pulled', 'Created', 'Started'].map((reason) => `${reason} spec.containers{${name}}`));
    const events = await h.waitForEvents(
      'pair',
      (all) => expected.every((want) => all.some((e) => `${e.reason} ${e.involvedObject?.fieldPath}` === want)),
      expected.join(', '),
    );
    const describe = await h.cluster.kubectl(['describe', 'pod', 'pair']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Status:\s+Running/);
    assert.match(describe.stdout, /Started container web/);
    assert.match(describe.stdout, /Created container: client/);
    const pulled = events.find((e) => e.reason === 'Pulled');
    assert.equal(pulled.message, `Container image "${image}" already present on machine`);
    assert.equal(pulled.source.component, 'kubelet');
    assert.equal(pulled.source.host, h.nodeName);
  });

  test('the pod gets its hostname, a Kubernetes hosts file and the cluster resolv.conf', async () => {
    await h.createPod({
      metadata: { name: 'dns', namespace: 'default' },
      spec: { nodeName: h.nodeName, containers: [shell('main', image, 'hostname; cat /etc/hosts /etc/resolv.conf; exec sleep 3600')] },
    });
    const pod = await h.waitForPod('dns', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const text = await eventually(async () => {
      const t = await readAll(await h.agent!.logs.logs('default', 'dns', 'main', {}, new AbortController().signal));
      return t.includes('nameserver') ? t : undefined;
    }, 10_000, 'dns log');
    const lines = text.split('\n');
    assert.equal(lines[0], 'dns');
    assert.ok(text.includes('# Kubernetes-managed hosts file.'));
    assert.ok(text.includes(`${pod.status.podIP}\tdns`), text);
    assert.ok(text.includes('search default.svc.cluster.local svc.cluster.local cluster.local'), text);
    assert.ok(text.includes('nameserver 10.43.0.10'));
    assert.ok(text.includes('options ndots:5'));
  });

  test('init containers run to completion, in order, before the app containers', async () => {
    await h.createPod({
      metadata: { name: 'inits' },
      spec: {
        nodeName: h.nodeName,
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          shell('first', image, 'sleep 0.5; echo first >> /work/order', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
          shell('second', image, 'echo second >> /work/order', { volumeMounts: [{ name: 'work', mountPath: '/work' }] }),
        ],
        containers: [shell('app', image, 'echo app >> /work/order; cat /work/order; exec sleep 3600', { volumeMounts: [{ name: 'work', mountPath: '/work' }] })],
      },
    });
    const seenPhases = new Set<string>();
    const pod = await h.waitForPod('inits', (p) => {
      const first = containerStatus(p, 'first');
      if (first?.state?.running) seenPhases.add('first-running');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 30_000, 'Running');
    assert.equal(condition(pod, 'Initialized'), 'True');
    for (const name of ['first', 'second']) {
      const s = containerStatus(pod, name);
      assert.equal(s.state.terminated.exitCode, 0);
      assert.equal(s.state.terminated.reason, 'Completed');
      assert.equal(s.ready, true);
    }
    const text = await eventually(async () => {
      const t = await readAll(await h.agent!.logs.logs('default', 'inits', 'app', {}, new AbortController().signal));
      return t.includes('app') ? t : undefined;
    }, 10_000, 'app log');
    assert.deepEqual(text.trim().split('\n'), ['first', 'second', 'app']);
    const get = await h.cluster.kubectl(['get', 'pod', 'inits', '--no-headers']);
    assert.match(get.stdout, /inits\s+1\/1\s+Running/);
  });

  test('a memory-backed emptyDir is one tmpfs that the pod\'s containers share, gone with the pod', async () => {
    const mount = [{ name: 'mem', mountPath: '/mem' }];
    await h.createPod({
      metadata: { name: 'in-memory' },
      spec: {
        nodeName: h.nodeName,
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } }],
        initContainers: [shell('writer', image, 'echo from-init > /mem/note', { volumeMounts: mount })],
        containers: [shell('reader', image, 'cat /mem/note; grep " /mem " /proc/mounts; exec sleep 3600', { volumeMounts: mount })],
      },
    });
    const pod = await h.waitForPod('in-memory', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const text = await eventually(async () => {
      const t = await readAll(await h.agent!.logs.logs('default', 'in-memory', 'reader', {}, new AbortController().signal));
      return t.includes('/mem') ? t : undefined;
    }, 10_000, 'reader log');
    assert.equal(text.split('\n')[0], 'from-init');
    assert.match(text, /^tmpfs \/mem tmpfs .*size=4096k/m);
    const hostMounts = async () => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.includes(pod.metadata!.uid!));
    assert.equal((await hostMounts()).length, 1);
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/in-memory');
    // The agent finishes the pod object's deletion, then removes its containers and directory.
    await eventually(async () => ((await h.getPod('in-memory')) === undefined && (await hostMounts()).length === 0 ? true : undefined), 30_000, 'pod and its tmpfs gone');
  });

  /** The Docker containers (any state) of one container of a pod on this test's node. */
  const dockerContainers = (pod: string, container: string) =>
    h.docker.docker.listContainers({ all: true, filters: { label: [`skiff.node=${h.nodeName}`, `io.kubernetes.pod.name=${pod}`, `io.kubernetes.container.name=${container}`] } });

  test('a postStart hook holds its container at ContainerCreating, and the containers after it, until it is done', async () => {
    // A ready node (pod network included) starts the pod in its first sync.
    await eventually(async () => (condition((await h.cluster.api('GET', `/api/v1/nodes/${h.nodeName}`)).body, 'Ready') === 'True' ? true : undefined), 20_000, 'node Ready');
    await h.createPod({
      metadata: { name: 'slow-hook' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          // 5 s: room for a loaded machine between Docker starting `main` and the test looking.
          { ...shell('main', image, 'exec sleep 3600'), lifecycle: { postStart: { exec: { command: ['sh', '-c', 'sleep 5'] } } } },
          shell('after', image, 'exec sleep 3600'),
        ],
      },
    });
    const inDocker = (container: string) => dockerContainers('slow-hook', container);
    // Docker runs `main`: its hook has begun (it lasts 5 s).
    await eventually(async () => ((await inDocker('main'))[0]?.State === 'running' ? true : undefined), 20_000, 'main running in Docker');
    // (The status the agent wrote before starting anything may still be on its way.)
    const during = await eventually(async () => {
      const pod = await h.getPod('slow-hook');
      return containerStatus(pod, 'main') ? pod : undefined;
    }, 2000, 'a status for main while its hook runs');
    assert.equal(during.status.phase, 'Pending');
    assert.deepEqual(containerStatus(during, 'main')?.state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(containerStatus(during, 'main').started, false);
    assert.equal(containerStatus(during, 'main').ready, false);
    assert.equal(condition(during, 'Ready'), 'False');
    assert.equal((await inDocker('after')).length, 0, 'the container after the hooked one waits for the hook');

    const pod = await h.waitForPod('slow-hook', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 30_000, 'Ready');
    const startedMs = (name: string) => Date.parse(containerStatus(pod, name).state.running.startedAt);
    assert.ok(startedMs('after') - startedMs('main') >= 4000, `after started ${startedMs('after') - startedMs('main')} ms after main`);
    assert.equal(containerStatus(pod, 'main').started, true);
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/slow-hook?gracePeriodSeconds=0');
  });

  test('deleting a pod stops waiting for its postStart hook: the pod goes in its grace period, not the hook\'s time', async () => {
    await h.createPod({
      metadata: { name: 'hung-hook' },
      spec: {
        nodeName: h.nodeName,
        // The hook is bounded by the grace period (30 s), far longer than this test waits.
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            ...shell('main', image, 'trap "exit 0" TERM; while true; do sleep 0.2; done'),
            lifecycle: { postStart: { exec: { command: ['sh', '-c', 'sleep 3600'] } } },
          },
          shell('after', image, 'exec sleep 3600'),
        ],
      },
    });
    const inDocker = (container: string) => dockerContainers('hung-hook', container);
    await eventually(async () => ((await inDocker('main'))[0]?.State === 'running' ? true : undefined), 20_000, 'main running, its hook under way');
    const deletedAt = Date.now();
    // `main` exits at SIGTERM: the pod goes as soon as termination reaches it.
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/hung-hook');
    await eventually(async () => ((await h.getPod('hung-hook')) === undefined ? true : undefined), 20_000, 'pod deleted');
    assert.ok(Date.now() - deletedAt < 20_000);
    assert.equal((await inDocker('after')).length, 0, 'the container behind the hook never started');
    const events = await h.events('hung-hook');
    assert.ok(!events.some((e) => e.reason === 'FailedPostStartHook'), 'an interrupted hook is not a failed one');
  });

  test('a postStart hook runs after the start; one that fails kills the container, which restarts', async () => {
    const watch = await openWatch(h.cluster, '/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dhooked');
    await h.createPod({
      metadata: { name: 'hooked' },
      spec: {
        nodeName: h.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            ...shell('main', image, 'for i in $(seq 1 50); do [ -f /tmp/hook ] && break; sleep 0.1; done; cat /tmp/hook; exec sleep 3600'),
            lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hooked > /tmp/hook'] } } },
          },
          { ...shell('failing', image, 'exec sleep 3600'), lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 3'] } } } },
        ],
      },
    });
    const text = await eventually(async () => {
      const t = await readAll(await h.agent!.logs.logs('default', 'hooked', 'main', {}, new AbortController().signal));
      return t.includes('hooked') ? t : undefined;
    }, 15_000, 'main log');
    assert.equal(text.trim(), 'hooked');
    // Killed for its hook, the container waits with the kubelet's reason and the hook's output
    // until it restarts (every status the agent writes reaches the watch).
    let hookError: any;
    try {
      const deadline = Date.now() + 30_000;
      while (!hookError && Date.now() < deadline) {
        const status = containerStatus((await watch.next(30_000))?.object, 'failing');
        if (status?.state?.waiting?.reason === 'PostStartHookError') hookError = status;
      }
    } finally {
      watch.close();
    }
    assert.ok(hookError, 'a status with the failing container waiting, reason PostStartHookError');
    assert.match(hookError.state.waiting.message, /^Exec lifecycle hook \(\[sh -c echo nope; exit 3\]\) for Container "failing" in Pod "hooked_default\([0-9a-f-]+\)" failed - error: command exited with 3: nope$/);
    assert.equal(hookError.lastState.terminated.reason, 'Error');
    const pod = await h.waitForPod('hooked', (p) => ((containerStatus(p, 'failing')?.restartCount ?? 0) >= 1 ? p : undefined), 30_000, 'failing container restarted');
    assert.equal(containerStatus(pod, 'main').restartCount, 0);
    const events = await h.waitForEvents(
      'hooked',
      (all) => all.some((e) => e.reason === 'FailedPostStartHook') && all.some((e) => e.reason === 'Killing'),
      'FailedPostStartHook and Killing',
    );
    const failed = events.find((e) => e.reason === 'FailedPostStartHook');
    assert.equal(failed?.type, 'Warning');
    assert.equal(failed?.involvedObject?.fieldPath, 'spec.containers{failing}');
    // As the kubelet's, the event carries no hook output (it may hold secrets).
    assert.equal(failed?.message, 'PostStartHook failed');
    assert.ok(events.some((e) => e.reason === 'Killing' && e.message === 'FailedPostStartHook' && e.involvedObject?.fieldPath === 'spec.containers{failing}'));
    // Failing again after its restart, it backs off.
    await h.waitForPod('hooked', (p) => (containerStatus(p, 'failing')?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined), 30_000, 'CrashLoopBackOff');
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/hooked?gracePeriodSeconds=0');
  });

  test('termination messages: the file at terminationMessagePath, or the log tail when the policy falls back to logs', async () => {
    await h.createPod({
      metadata: { name: 'last-words' },
      spec: {
        nodeName: h.nodeName,
        restartPolicy: 'Never',
        containers: [
          shell('file', image, 'printf "bye from file" > /dev/termination-log; exit 1'),
          { ...shell('custom', image, 'printf "custom path" > /tmp/why; exit 0'), terminationMessagePath: '/tmp/why' },
          { ...shell('fallback', image, 'for i in $(seq 1 100); do echo "line $i"; done; exit 2'), terminationMessagePolicy: 'FallbackToLogsOnError' },
          { ...shell('quiet', image, 'echo not a message; exit 3') },
        ],
      },
    });
    const pod = await h.waitForPod('last-words', (p) => (p.status?.phase === 'Failed' ? p : undefined), 30_000, 'Failed');
    const message = (name: string) => containerStatus(pod, name).state.terminated.message as string | undefined;
    assert.equal(message('file'), 'bye from file');
    assert.equal(message('custom'), 'custom path');
    const fallback = message('fallback')!;
    assert.equal(fallback.trim().split('\n').length, 80); // the last 80 lines of the log
    assert.ok(fallback.endsWith('line 100\n') && fallback.startsWith('line 21\n'), fallback);
    assert.equal(message('quiet'), undefined); // policy File, empty file: no message, even on failure
    const describe = await h.cluster.kubectl(['describe', 'pod', 'last-words']);
    assert.match(describe.stdout, /Message:\s+bye from file/);
  });

  test('a pod past its activeDeadlineSeconds is stopped and fails with DeadlineExceeded', async () => {
    await h.createPod({
      metadata: { name: 'deadline' },
      spec: { nodeName: h.nodeName, activeDeadlineSeconds: 3, terminationGracePeriodSeconds: 1, containers: [shell('main', image, 'exec sleep 3600')] },
    });
    await h.waitForPod('deadline', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const pod = await h.waitForPod('deadline', (p) => (p.status?.phase === 'Failed' ? p : undefined), 30_000, 'Failed');
    assert.equal(pod.status.reason, 'DeadlineExceeded');
    assert.equal(pod.status.message, 'Pod was active on the node longer than the specified deadline');
    assert.ok(containerStatus(pod, 'main').state.terminated, 'the container was stopped');
    assert.equal(containerStatus(pod, 'main').restartCount, 0);
    await h.waitForEvents('deadline', (all) => all.some((e) => e.reason === 'DeadlineExceeded'), 'DeadlineExceeded');
    const running = await h.docker.docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${pod.metadata.uid}`] } });
    assert.deepEqual(running, [], 'nothing of the pod runs, not even its sandbox');
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/deadline?gracePeriodSeconds=0');
  });

  test('env and files come from ConfigMaps and Secrets (items, modes, envFrom, fieldRef); updates reach the files', async () => {
    await h.cluster.api('POST', '/api/v1/namespaces/default/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { greeting: 'hello', 'app.conf': 'mode=fast\n', LEVEL: 'debug' } },
    });
    await h.cluster.api('POST', '/api/v1/namespaces/default/secrets', {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret' }, data: { password: Buffer.from('s3cret').toString('base64') } },
    });
    await h.createPod({
      metadata: { name: 'configured', labels: { app: 'configured' } },
      spec: {
        nodeName: h.nodeName,
        volumes: [
          { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
          { name: 'secret', secret: { secretName: 'app-secret', defaultMode: 0o400 } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
        ],
        containers: [
          shell(
            'main',
            image,
            'echo "GREETING=$GREETING PASSWORD=$PASSWORD LEVEL=$CFG_LEVEL POD=$POD_NAME NS=$POD_NS NODE=$NODE IP=$POD_IP MSG=$MESSAGE API=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; cat /config/conf/app.conf; stat -L -c %a /secret/password; cat /secret/password; echo; cat /info/labels; echo; exec sleep 3600',
            {
              env: [
                { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'greeting' } } },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'MESSAGE', value: '$(GREETING) from $(POD_NAME)' },
              ],
              envFrom: [{ configMapRef: { name: 'app-config' }, prefix: 'CFG_' }],
              volumeMounts: [
                { name: 'config', mountPath: '/config' },
                { name: 'secret', mountPath: '/secret' },
                { name: 'info', mountPath: '/info' },
              ],
            },
          ),
        ],
      },
    });
    const pod = await h.waitForPod('configured', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const text = await eventually(async () => {
      const t = await readAll(await h.agent!.logs.logs('default', 'configured', 'main', {}, new AbortController().signal));
      return t.includes('app=') ? t : undefined;
    }, 10_000, 'log');
    const lines = text.trim().split('\n');
    const kubernetes = (await h.cluster.api('GET', '/api/v1/namespaces/default/services/kubernetes')).body;
    assert.equal(
      lines[0],
      `GREETING=hello PASSWORD=s3cret LEVEL=debug POD=configured NS=default NODE=${h.nodeName} IP=${pod.status.podIP} MSG=hello from configured API=${kubernetes.spec.clusterIP}:${kubernetes.spec.ports[0].port}`,
    );
    assert.equal(lines[1], 'mode=fast');
    assert.equal(lines[2], '400');
    assert.equal(lines[3], 's3cret');
    assert.equal(lines[4], 'app="configured"');
    // An update of the ConfigMap reaches the projected file (on the next resync).
    await h.cluster.api('PATCH', '/api/v1/namespaces/default/configmaps/app-config', {
      body: { data: { 'app.conf': 'mode=slow\n' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    const uid = pod.metadata.uid;
    const { readFile } = await import('node:fs/promises');
    await eventually(async () => {
      const content = await readFile(`${h.agentOptions.dataDir}/pods/${uid}/volumes/kubernetes.io~configmap/config/conf/app.conf`, 'utf8').catch(() => '');
      return content === 'mode=slow\n' ? true : undefined;
    }, 15_000, 'configmap update in the volume');
  });

  test('graceful deletion: preStop, SIGTERM, the pod object removed within the grace period', async () => {
    await h.createPod({
      metadata: { name: 'graceful' },
      spec: {
        nodeName: h.nodeName,
        terminationGracePeriodSeconds: 20,
        volumes: [{ name: 'out', hostPath: { path: `${h.dataDir}/graceful-out`, type: 'DirectoryOrCreate' } }],
        containers: [
          shell('main', image, "trap 'echo got-TERM >> /out/log; exit 0' TERM; echo started >> /out/log; while true; do sleep 0.2; done", {
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /out/log'] } } },
            volumeMounts: [{ name: 'out', mountPath: '/out' }],
          }),
        ],
      },
    });
    await h.waitForPod('graceful', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const began = Date.now();
    const res = await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/graceful');
    assert.equal(res.status, 200);
    assert.ok(res.body.metadata.deletionTimestamp);
    await eventually(async () => ((await h.getPod('graceful')) ? undefined : true), 15_000, 'pod object deleted');
    const took = Date.now() - began;
    assert.ok(took < 10_000, `deletion took ${took} ms`);
    const { readFile } = await import('node:fs/promises');
    const log = (await readFile(`${h.dataDir}/graceful-out/log`, 'utf8')).trim().split('\n');
    assert.deepEqual(log, ['started', 'prestop', 'got-TERM']);
    await eventually(async () => {
      const left = await h.docker.docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=graceful', `skiff.node=${h.nodeName}`] } });
      return left.length === 0 ? true : undefined;
    }, 5000, 'containers removed');
    await h.waitForEvents('graceful', (all) => all.some((e) => e.reason === 'Killing'), 'Killing');
  });

  test('a container that ignores SIGTERM is killed when the grace period ends', async () => {
    await h.createPod({
      metadata: { name: 'stubborn' },
      spec: { nodeName: h.nodeName, terminationGracePeriodSeconds: 3, containers: [shell('main', image, 'trap "" TERM; while true; do sleep 0.2; done')] },
    });
    await h.waitForPod('stubborn', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const began = Date.now();
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/stubborn');
    await eventually(async () => ((await h.getPod('stubborn')) ? undefined : true), 15_000, 'pod object deleted');
    const took = Date.now() - began;
    assert.ok(took >= 2500 && took < 8000, `deletion took ${took} ms`);
  });

  test('logs: tail, timestamps, byte limits, follow, and clear errors', async () => {
    await h.createPod({
      metadata: { name: 'chatty' },
      spec: {
        nodeName: h.nodeName,
        containers: [
          // stdout and stderr are copied separately: only a pause orders lines across them.
          shell('fixed', image, 'echo err-line >&2; sleep 0.3; for i in 1 2 3 4 5; do echo line-$i; done; exec sleep 3600'),
          shell('ticker', image, 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done'),
        ],
      },
    });
    await h.waitForPod('chatty', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const signal = new AbortController().signal;
    const read = async (options: object) => readAll(await h.agent!.logs.logs('default', 'chatty', 'fixed', options, signal));
    await eventually(async () => ((await read({})).includes('line-5') ? true : undefined), 10_000, 'all lines');
    assert.equal(await read({}), 'err-line\nline-1\nline-2\nline-3\nline-4\nline-5\n');
    assert.equal(await read({ tailLines: 2 }), 'line-4\nline-5\n');
    assert.equal(await read({ limitBytes: 9 }), 'err-line\n');
    const stamped = (await read({ timestamps: true, tailLines: 1 })).trim();
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line-5$/);
    assert.equal(await read({ sinceTime: new Date(Date.now() + 60_000).toISOString() }), '');

    const abort = new AbortController();
    const follow = await h.agent!.logs.logs('default', 'chatty', 'ticker', { follow: true, tailLines: 0 }, abort.signal);
    let followed = '';
    const ended = new Promise<void>((resolve) => {
      follow.on('data', (chunk: Buffer) => (followed += chunk.toString()));
      follow.on('end', resolve);
      follow.on('close', resolve);
    });
    await eventually(() => ((followed.match(/tick-/g) ?? []).length >= 3 ? true : undefined), 10_000, 'followed lines');
    abort.abort();
    await ended;
    assert.match(followed, /^(tick-\d+\n)+$/);

    await assert.rejects(h.agent!.logs.logs('default', 'chatty', 'nope', {}, signal), /container nope is not valid for pod chatty/);
    await assert.rejects(h.agent!.logs.logs('default', 'absent', 'fixed', {}, signal), /pods "absent" not found/);
    await assert.rejects(h.agent!.logs.logs('default', 'chatty', 'fixed', { previous: true }, signal), /previous terminated container "fixed" in pod "chatty" not found/);
  });

  test('a hostNetwork pod uses the node address', async () => {
    await h.createPod({ metadata: { name: 'hostnet' }, spec: { nodeName: h.nodeName, hostNetwork: true, containers: [shell('main', image, 'exec sleep 3600')] } });
    const pod = await h.waitForPod('hostnet', (p) => (condition(p, 'Ready') === 'True' ? p : undefined), 30_000, 'Ready');
    assert.equal(pod.status.podIP, '127.0.0.1');
    const sandboxes = await h.docker.docker.listContainers({ filters: { label: ['io.kubernetes.pod.name=hostnet', 'skiff.kind=sandbox'] } });
    const info = await h.docker.docker.getContainer(sandboxes[0]!.Id).inspect();
    assert.equal(info.HostConfig.NetworkMode, 'host');
  });

  test("the agent's metrics count running pods, starts and Docker calls", async () => {
    const text = await h.agent!.registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('skiff_agent_running_pods') >= 3, text);
    assert.ok(value('skiff_agent_running_containers') >= 3);
    assert.ok(value('skiff_agent_pod_start_duration_seconds_count') >= 3);
    assert.match(text, /^skiff_agent_docker_operation_duration_seconds_count\{operation="create_container"\} \d+/m);
    assert.match(text, /^# TYPE skiff_agent_docker_operation_errors_total counter/m);
  });

  test('resource usage of running pods', async () => {
    await h.createPod({
      metadata: { name: 'busy' },
      spec: {
        nodeName: h.nodeName,
        containers: [shell('spin', image, 'while true; do :; done', { resources: { limits: { cpu: '200m', memory: '64Mi' } } })],
      },
    });
    await h.waitForPod('busy', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    const inspect = await h.docker.docker.listContainers({ filters: { label: ['io.kubernetes.pod.name=busy', 'io.kubernetes.container.name=spin'] } });
    const info = await h.docker.docker.getContainer(inspect[0]!.Id).inspect();
    assert.equal(info.HostConfig.NanoCpus, 200_000_000);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    await h.agent!.usage.podUsage();
    await new Promise((r) => setTimeout(r, 1500));
    const usage = await h.agent!.usage.podUsage();
    const busy = usage.find((p) => p.name === 'busy');
    assert.ok(busy, JSON.stringify(usage));
    const spin = busy.containers.find((c) => c.name === 'spin')!;
    // Limited to 0.2 cores: somewhere between a little and the limit (with slack for sampling).
    assert.ok(spin.cpuNanoCores > 50_000_000 && spin.cpuNanoCores < 300_000_000, `cpu ${spin.cpuNanoCores}`);
    assert.ok(spin.memoryWorkingSetBytes > 0 && spin.memoryWorkingSetBytes < 64 * 1024 * 1024);
  });

  test('containers of a pod deleted while the agent was away are removed', async () => {
    await h.createPod({ metadata: { name: 'orphan' }, spec: { nodeName: h.nodeName, terminationGracePeriodSeconds: 2, containers: [shell('main', image, 'exec sleep 3600')] } });
    await h.waitForPod('orphan', (p) => (p.status?.phase === 'Running' ? p : undefined), 30_000, 'Running');
    await h.stopAgent();
    await h.cluster.api('DELETE', '/api/v1/namespaces/default/pods/orphan?gracePeriodSeconds=0');
    assert.equal(await h.getPod('orphan'), undefined);
    const before = await h.docker.docker.listContainers({ filters: { label: ['io.kubernetes.pod.name=orphan'] } });
    assert.equal(before.length, 2);
    await h.startAgent();
    await eventually(async () => {
      const left = await h.docker.docker.listContainers({ all: true, filters: { label: ['io.kubernetes.pod.name=orphan'] } });
      return left.length === 0 ? true : undefined;
    }, 15_000, 'orphan containers removed');
  });
});
