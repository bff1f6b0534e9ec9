// What every cluster has from its first start, as in Kubernetes: the four system namespaces,
// a `default` ServiceAccount in every namespace, and the `kubernetes` Service in `default`
// (first IP of the service CIDR, pointing at the API server) with its Endpoints.

import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../api/objects.js';
import { StatusError } from '../../api/errors.js';
import { objectStorageKey, encodeObject } from './registry/codec.js';
import type { Registry } from './registry/registry.js';
import { findResource } from '../../api/resources.js';
import type { TxnOp } from '../store/store.js';
import { kubeTime } from '../../api/time.js';

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

const serviceAccounts = findResource('', 'v1', 'serviceaccounts')!;

/** The store operation creating a namespace's `default` ServiceAccount with it. */
export function defaultServiceAccountOp(namespace: string): TxnOp {
  const sa: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', namespace, uid: randomUUID(), creationTimestamp: kubeTime() },
  };
  return { op: 'create', key: objectStorageKey(serviceAccounts, namespace, 'default'), value: encodeObject(sa) };
}

async function ensure(registry: Registry, namespace: string | undefined, obj: KubeObject): Promise<void> {
  try {
    await registry.get(namespace, obj.metadata!.name!);
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 404)) throw err;
    try {
      await registry.create(namespace, obj);
    } catch (createErr) {
      // Another server bootstrapping the same store got there first.
      if (!(createErr instanceof StatusError && createErr.reason === 'AlreadyExists')) throw createErr;
    }
  }
}

export interface BootstrapTarget {
  registry(group: string, plural: string): Registry;
  serviceIp: string;
  advertiseAddress: string;
  port: number;
}

export async function bootstrap(target: BootstrapTarget): Promise<void> {
  const namespaces = target.registry('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const port = { name: 'https', port: 443, protocol: 'TCP', targetPort: target.port };
  await ensure(target.registry('', 'services'), 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: target.serviceIp, ports: [port], sessionAffinity: 'None' },
  });
  // Endpoints may not point at loopback (Kubernetes' rule; pods could not reach it anyway): a
  // server bound to 127.0.0.1 has a `kubernetes` Service without Endpoints.
  if (isLoopback(target.advertiseAddress)) return;
  const endpoints = target.registry('', 'endpoints');
  const subsets = [{ addresses: [{ ip: target.advertiseAddress }], ports: [{ name: 'https', port: target.port, protocol: 'TCP' }] }];
  try {
    const current = await endpoints.get('default', 'kubernetes');
    if (JSON.stringify(current['subsets']) !== JSON.stringify(subsets)) {
      await endpoints.update('default', 'kubernetes', { ...current, subsets });
    }
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 404)) throw err;
    await ensure(endpoints, 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets,
    });
  }
}
