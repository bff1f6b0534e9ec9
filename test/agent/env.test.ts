import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigMap, Container, Pod, Secret, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, containerEnv, expandCommand, expandVars } from '../../agent/pods/env.js';
import type { ReferencedObjects } from '../../agent/pods/referenced-objects.js';

function objects(configMaps: Record<string, ConfigMap>, secrets: Record<string, Secret> = {}, services: Service[] = []): ReferencedObjects {
  return {
    configMap: async (_ns: string, name: string) => configMaps[name],
    secret: async (_ns: string, name: string) => secrets[name],
    services: async (ns: string) => services.filter((s) => s.metadata?.namespace === ns),
  } as unknown as ReferencedObjects;
}

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: { nodeName: 'node-a', serviceAccountName: 'default', containers: [] },
};

function env(container: Partial<Container>, objs = objects({}), of: Pod = pod) {
  return containerEnv({
    pod: of,
    container: { name: 'main', ...container },
    runtime: { podIp: '10.42.0.7', hostIp: '192.168.1.10' },
    allocatable: { cpuMilli: 2000, memoryBytes: 4 * 1024 ** 3, ephemeralStorageBytes: 10 * 1024 ** 3 },
    objects: objs,
  });
}

describe('container environment', () => {
  test('$(VAR) expansion follows Kubernetes: defined names replaced, others kept, $$ escapes', () => {
    const vars: Record<string, string> = { A: 'one', B: 'two' };
    const lookup = (n: string) => vars[n];
    assert.equal(expandVars('$(A)-$(B)', lookup), 'one-two');
    assert.equal(expandVars('$(MISSING)', lookup), '$(MISSING)');
    assert.equal(expandVars('$$(A)', lookup), '$(A)');
    assert.equal(expandVars('cost $5 $(A', lookup), 'cost $5 $(A');
  });

  test('values, fieldRefs and resourceFieldRefs; later entries refer to earlier ones', async () => {
    const vars = await env({
      resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'GREETING', value: 'hi $(NAME) in $(NS)' },
      ],
    });
    assert.deepEqual(Object.fromEntries(vars), {
      NAME: 'web',
      NS: 'shop',
      APP: 'web',
      IP: '10.42.0.7',
      HOST: '192.168.1.10',
      NODE: 'node-a',
      MEM_MI: '128',
      CPU_LIMIT: '2',
      CPU_REQ_M: '250',
      GREETING: 'hi web in shop',
    });
  });

  test('envFrom with prefix, then env overrides; keys from ConfigMaps and Secrets', async () => {
    const vars = await env(
      {
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'sec' } }],
        env: [
          { name: 'CFG_MODE', value: 'override' },
          { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'PASSWORD' } } },
        ],
      },
      objects({ cfg: { data: { MODE: 'fast', LEVEL: '3' } } }, { sec: { data: { PASSWORD: Buffer.from('pw').toString('base64') } } }),
    );
    assert.deepEqual(Object.fromEntries(vars), { CFG_MODE: 'override', CFG_LEVEL: '3', PASSWORD: 'pw', KEY: 'fast', PASS: 'pw' });
  });

  test('missing ConfigMaps, Secrets and keys are config errors unless optional', async () => {
    await assert.rejects(env({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }), (err: unknown) => {
      assert.ok(err instanceof ContainerConfigError);
      assert.equal(err.message, 'configmap "nope" not found');
      return true;
    });
    await assert.rejects(env({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }), /secret "nope" not found/);
    await assert.rejects(
      env({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'absent' } } }] }, objects({ cfg: { data: {} } })),
      /couldn't find key absent in ConfigMap shop\/cfg/,
    );
    await assert.rejects(env({ envFrom: [{ secretRef: { name: 'gone' } }] }), /secret "gone" not found/);
    const optional = await env({
      envFrom: [{ configMapRef: { name: 'gone', optional: true } }],
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } }],
    });
    assert.equal(optional.size, 0);
  });

  test('command and args expand $(VAR); a command without args drops the image CMD', () => {
    const vars = new Map([['PORT', '8080']]);
    assert.deepEqual(expandCommand({ name: 'm', command: ['server', '--port=$(PORT)'] }, vars), { command: ['server', '--port=8080'], args: [] });
    assert.deepEqual(expandCommand({ name: 'm', args: ['$(PORT)'] }, vars), { command: undefined, args: ['8080'] });
    assert.deepEqual(expandCommand({ name: 'm' }, vars), { command: undefined, args: undefined });
  });

  test('service variables: the kubernetes Service always, the namespace\'s Services unless links are off; the container\'s own win', async () => {
    const service = (namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service => ({
      metadata: { namespace, name },
      spec: { clusterIP, ports },
    });
    const services = [
      service('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
      service('default', 'other', '10.43.0.9', [{ port: 1 }]), // another namespace's: not linked
      service('shop', 'redis-main', '10.43.0.20', [{ name: 'client', port: 6379 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
      service('shop', 'headless', 'None', [{ port: 80 }]),
    ];
    const vars = await env({ env: [{ name: 'REDIS_MAIN_SERVICE_PORT', value: 'mine' }, { name: 'URL', value: 'redis://$(REDIS_MAIN_SERVICE_HOST):$(REDIS_MAIN_SERVICE_PORT_CLIENT)' }] }, objects({}, {}, services));
    assert.equal(vars.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(vars.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(vars.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(vars.get('KUBERNETES_PORT'), 'tcp://10.43.0.1:443');
    assert.equal(vars.get('KUBERNETES_PORT_443_TCP_ADDR'), '10.43.0.1');
    assert.equal(vars.get('REDIS_MAIN_SERVICE_HOST'), '10.43.0.20');
    assert.equal(vars.get('REDIS_MAIN_SERVICE_PORT'), 'mine'); // defined by the container
    assert.equal(vars.get('URL'), 'redis://10.43.0.20:6379');
    assert.equal(vars.get('REDIS_MAIN_PORT_53_UDP'), 'udp://10.43.0.20:53');
    assert.equal(vars.get('REDIS_MAIN_PORT_53_UDP_PROTO'), 'udp');
    assert.equal(vars.get('REDIS_MAIN_PORT_6379_TCP_PORT'), '6379');
    assert.equal(vars.get('OTHER_SERVICE_HOST'), undefined);
    assert.equal([...vars.keys()].some((k) => k.startsWith('HEADLESS_')), false);
    const unlinked = await env({}, objects({}, {}, services), { ...pod, spec: { ...pod.spec!, enableServiceLinks: false } });
    assert.equal(unlinked.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(unlinked.get('REDIS_MAIN_SERVICE_HOST'), undefined);
  });
});
