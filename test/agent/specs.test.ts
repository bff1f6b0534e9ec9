import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { hostsFile, parseResolvConf, podResolverConfig, resolvConf } from '../../agent/pods/etc-files.js';
import type { ContainerIdentity } from '../../agent/runtime/labels.js';
import { containerName, identityFromLabels, identityLabels } from '../../agent/runtime/labels.js';
import { containerCreateOptions, containerSpecHash, cpuShares, podHostname, sandboxCreateOptions } from '../../agent/runtime/specs.js';

const identity: ContainerIdentity = {
  node: 'node-a',
  kind: 'app',
  podUid: 'uid-1',
  podName: 'web',
  podNamespace: 'shop',
  containerName: 'main',
  restartCount: 2,
  specHash: 'abc',
  sandboxAttempt: 1,
  sandboxId: 'sb1',
  terminationGracePeriodSeconds: 45,
  preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } },
  terminationMessageFile: '/var/lib/skiff/pods/uid-1/containers/main/2',
  terminationMessagePolicy: 'FallbackToLogsOnError',
};

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'uid-1' },
  spec: {
    containers: [{ name: 'main', image: 'busybox:1', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }] }],
  },
};

describe('Docker specs for pods', () => {
  test('labels carry everything a restarted agent needs', () => {
    const labels = identityLabels(identity, { 'skiff.test': '1' });
    assert.equal(labels['io.kubernetes.pod.name'], 'web');
    assert.equal(labels['skiff.node'], 'node-a');
    assert.equal(labels['skiff.test'], '1');
    assert.deepEqual(identityFromLabels(labels), identity);
    assert.equal(identityFromLabels({ 'skiff.node': 'x' }), undefined);
    assert.equal(containerName(identity, 2), 'k8s_main_web_shop_uid-1_2');
  });

  test('the sandbox holds the network, hostname and host ports', () => {
    const options = sandboxCreateOptions({ pod, identity: { ...identity, kind: 'sandbox', containerName: 'POD' }, image: 'pause:3.10', network: 'skiff-node-a', extraLabels: {} });
    assert.equal(options.Hostname, 'web');
    assert.equal(options.HostConfig?.NetworkMode, 'skiff-node-a');
    assert.equal(options.HostConfig?.IpcMode, 'shareable');
    assert.deepEqual(options.HostConfig?.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '5353' }] });
    assert.deepEqual(options.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    const host = sandboxCreateOptions({ pod: { ...pod, spec: { ...pod.spec!, hostNetwork: true } }, identity, image: 'pause', network: 'n', extraLabels: {} });
    assert.equal(host.HostConfig?.NetworkMode, 'host');
    assert.equal(host.Hostname, undefined);
  });

  test('app containers join the sandbox; limits become cgroup limits', () => {
    const options = containerCreateOptions({
      pod,
      container: { name: 'main', image: 'busybox:1', workingDir: '/srv', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } }, securityContext: { runAsUser: 1000, runAsGroup: 2000 } },
      identity,
      sandboxId: 'sb1',
      env: ['A=1'],
      binds: ['/data:/data:ro'],
      command: ['sh'],
      args: ['-c', 'true'],
      extraLabels: {},
    });
    assert.equal(options.name, 'k8s_main_web_shop_uid-1_2');
    assert.deepEqual(options.Entrypoint, ['sh']);
    assert.deepEqual(options.Cmd, ['-c', 'true']);
    assert.equal(options.WorkingDir, '/srv');
    assert.equal(options.User, '1000:2000');
    const hc = options.HostConfig!;
    assert.equal(hc.NetworkMode, 'container:sb1');
    assert.equal(hc.IpcMode, 'container:sb1');
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 64 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 500_000_000);
    assert.equal(hc.CpuShares, 102);
    assert.deepEqual(hc.Binds, ['/data:/data:ro']);
    assert.equal(hc.LogConfig?.Type, 'json-file');
    assert.equal(cpuShares(1), 2);
  });

  test('the spec hash changes with the spec and not with key order', () => {
    const a = containerSpecHash({ name: 'm', image: 'x', args: ['1'] });
    assert.equal(a, containerSpecHash({ args: ['1'], image: 'x', name: 'm' }));
    assert.notEqual(a, containerSpecHash({ name: 'm', image: 'y', args: ['1'] }));
  });

  test('hostnames are DNS labels', () => {
    assert.equal(podHostname({ metadata: { name: 'a'.repeat(70) } }), 'a'.repeat(63));
    assert.equal(podHostname({ metadata: { name: 'web' }, spec: { hostname: 'front', containers: [] } }), 'front');
  });
});

describe('per-pod /etc/hosts and resolv.conf', () => {
  test('the hosts file names the pod (with its FQDN under a subdomain) and host aliases', () => {
    const text = hostsFile({ metadata: { name: 'db-0', namespace: 'data' }, spec: { subdomain: 'db', containers: [], hostAliases: [{ ip: '10.0.0.9', hostnames: ['legacy', 'old'] }] } }, '10.42.0.8', 'cluster.local');
    assert.ok(text.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n'));
    assert.ok(text.includes('10.42.0.8\tdb-0.db.data.svc.cluster.local\tdb-0\n'));
    assert.ok(text.includes('# Entries added by HostAliases.\n10.0.0.9\tlegacy\told\n'));
  });

  test('ClusterFirst: cluster DNS, the namespace search path, ndots:5; dnsConfig merges', () => {
    const node = parseResolvConf('nameserver 1.1.1.1\nsearch corp.example\noptions edns0\n');
    const p: Pod = { metadata: { namespace: 'shop' }, spec: { containers: [], dnsConfig: { searches: ['extra.local'], options: [{ name: 'ndots', value: '2' }, { name: 'timeout', value: '1' }] } } };
    assert.equal(
      resolvConf(podResolverConfig(p, ['10.43.0.10'], 'cluster.local', node)),
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example extra.local\nnameserver 10.43.0.10\noptions ndots:2 timeout:1\n',
    );
    const dflt = podResolverConfig({ spec: { containers: [], dnsPolicy: 'Default' } }, ['10.43.0.10'], 'cluster.local', node);
    assert.deepEqual(dflt.nameservers, ['1.1.1.1']);
    const none = podResolverConfig({ spec: { containers: [], dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } } }, ['10.43.0.10'], 'cluster.local', node);
    assert.equal(resolvConf(none), 'nameserver 9.9.9.9\n');
  });
});
