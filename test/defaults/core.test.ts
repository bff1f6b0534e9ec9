import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/objects.js';
import { RESOURCES } from '../../api/resources.js';
import { applyDefaults, carryOverServiceAllocations } from '../../controlplane/apiserver/defaults/index.js';

function defaulted(group: string, kind: string, obj: KubeObject): KubeObject {
  const r = RESOURCES.find((x) => x.group === group && x.kind === kind);
  assert.ok(r);
  const copy = structuredClone(obj);
  applyDefaults(r, copy);
  return copy;
}

describe('core/v1 defaults', () => {
  test('a Pod is filled in exactly as Kubernetes fills it', () => {
    const written = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'registry.local/web',
            ports: [{ name: 'http', containerPort: 8080 }],
            env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            readinessProbe: { httpGet: { port: 'http' } },
            resources: { limits: { cpu: 0.5, memory: '1024Mi' } },
          },
        ],
        initContainers: [{ name: 'init', image: 'busybox@sha256:abcd' }],
        volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }, { name: 'tls', secret: { secretName: 'tls' } }],
      },
    };
    assert.deepEqual(defaulted('', 'Pod', written), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'registry.local/web',
            imagePullPolicy: 'Always',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
            readinessProbe: { httpGet: { port: 'http', path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
            resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
          },
        ],
        initContainers: [
          { name: 'init', image: 'busybox@sha256:abcd', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
        ],
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
          { name: 'tls', secret: { secretName: 'tls', defaultMode: 420 } },
        ],
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        schedulerName: 'default-scheduler',
        securityContext: {},
        terminationGracePeriodSeconds: 30,
        enableServiceLinks: true,
      },
    });
  });

  test('image pull policy follows the tag', () => {
    const policy = (image: string): unknown => {
      const pod = defaulted('', 'Pod', { spec: { containers: [{ name: 'c', image }] } });
      return ((pod['spec'] as { containers: Record<string, unknown>[] }).containers[0] ?? {})['imagePullPolicy'];
    };
    assert.equal(policy('nginx'), 'Always');
    assert.equal(policy('nginx:latest'), 'Always');
    assert.equal(policy('nginx:1.25'), 'IfNotPresent');
    assert.equal(policy('localhost:5000/nginx'), 'Always');
    assert.equal(policy('localhost:5000/nginx:v1'), 'IfNotPresent');
  });

  test('a Service is filled in exactly as Kubernetes fills it (addresses left to the allocator)', () => {
    const written = { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'x', port: 81, targetPort: 'metrics' }] } };
    assert.deepEqual(defaulted('', 'Service', written), {
      metadata: { name: 'web' },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports: [
          { port: 80, protocol: 'TCP', targetPort: 80 },
          { name: 'x', port: 81, targetPort: 'metrics', protocol: 'TCP' },
        ],
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
      },
    });
  });

  test('ClusterIP and ExternalName services', () => {
    const cluster = defaulted('', 'Service', { spec: { clusterIP: '10.43.0.9', ports: [{ port: 53, protocol: 'UDP' }] } })['spec'] as Record<string, unknown>;
    assert.equal(cluster['type'], 'ClusterIP');
    assert.equal(cluster['externalTrafficPolicy'], undefined);
    assert.deepEqual(cluster['clusterIPs'], ['10.43.0.9']);
    const ext = defaulted('', 'Service', { spec: { type: 'ExternalName', externalName: 'example.com' } })['spec'] as Record<string, unknown>;
    assert.equal(ext['ipFamilies'], undefined);
    assert.equal(ext['ipFamilyPolicy'], undefined);
    assert.equal(ext['internalTrafficPolicy'], undefined);
  });

  test('Namespace, Secret, Endpoints, Node, EndpointSlice', () => {
    const ns = defaulted('', 'Namespace', { metadata: { name: 'dev' } });
    assert.deepEqual(ns, { metadata: { name: 'dev', labels: { 'kubernetes.io/metadata.name': 'dev' } }, spec: { finalizers: ['kubernetes'] } });
    const secret = defaulted('', 'Secret', { stringData: { user: 'admin' }, data: { pw: 'eA==' } });
    assert.deepEqual(secret, { type: 'Opaque', data: { pw: 'eA==', user: 'YWRtaW4=' } });
    const ep = defaulted('', 'Endpoints', { subsets: [{ ports: [{ port: 80 }] }] });
    assert.deepEqual(ep['subsets'], [{ ports: [{ port: 80, protocol: 'TCP' }] }]);
    const node = defaulted('', 'Node', { spec: { podCIDR: '10.42.1.0/24' }, status: { capacity: { cpu: 4, memory: '8Gi' } } });
    assert.deepEqual(node, {
      spec: { podCIDR: '10.42.1.0/24', podCIDRs: ['10.42.1.0/24'] },
      status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '4', memory: '8Gi' } },
    });
    const slice = defaulted('discovery.k8s.io', 'EndpointSlice', { ports: [{ port: 80 }] });
    assert.deepEqual(slice['ports'], [{ port: 80, name: '', protocol: 'TCP' }]);
  });
});

describe('service update keeps allocated addresses', () => {
  test('a replaced manifest without clusterIP or nodePort keeps the allocated ones', () => {
    const stored = { spec: { type: 'NodePort', clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'], ports: [{ name: 'http', port: 80, nodePort: 30080 }] } };
    const replaced = { spec: { type: 'NodePort', ports: [{ name: 'http', port: 8080 }] } };
    carryOverServiceAllocations(replaced, stored);
    assert.deepEqual(replaced, { spec: { type: 'NodePort', clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'], ports: [{ name: 'http', port: 8080, nodePort: 30080 }] } });
    const toExternal = { spec: { type: 'ExternalName', externalName: 'example.com', clusterIPs: ['10.43.0.5'] } };
    carryOverServiceAllocations(toExternal, stored);
    assert.deepEqual(toExternal, { spec: { type: 'ExternalName', externalName: 'example.com' } });
  });
});
