// The services table: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR for `-o wide`.

import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { timeSince } from './duration.js';
import { formatLabels } from './labels.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

export const servicePrinter = printer<Service>(
  [
    NAME_COLUMN,
    column('Type', 'string', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    column('Cluster-IP', 'string', 'The virtual IP address of the service inside the cluster.'),
    column('External-IP', 'string', 'Addresses that reach the service from outside the cluster.'),
    column('Port(s)', 'string', 'Service ports, with node ports, and protocols.'),
    AGE_COLUMN,
    column('Selector', 'string', 'Labels of the pods that back the service.', { priority: 1 }),
  ],
  (svc, now) => [
    svc.metadata?.name ?? '',
    serviceType(svc),
    clusterIP(svc) || '<none>',
    externalIP(svc),
    formatPorts(svc.spec?.ports ?? []) || '<none>',
    timeSince(svc.metadata?.creationTimestamp, now),
    formatLabels(svc.spec?.selector),
  ],
);

/** Kubernetes defaults an empty type to ClusterIP. */
function serviceType(svc: Service): string {
  return svc.spec?.type || 'ClusterIP';
}

/** `spec.clusterIP` wins over `spec.clusterIPs[0]`, as in Kubernetes' v1 conversion. */
function clusterIP(svc: Service): string {
  return svc.spec?.clusterIP || svc.spec?.clusterIPs?.[0] || '';
}

function externalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (serviceType(svc)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      // Server-side tables are always "wide", so the load-balancer list is never shortened.
      const ingress = new Set<string>();
      for (const entry of svc.status?.loadBalancer?.ingress ?? []) {
        const address = entry.ip || entry.hostname;
        if (address) ingress.add(address);
      }
      const addresses = [...[...ingress].sort(), ...externalIPs];
      return addresses.length > 0 ? addresses.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** `80:30080/TCP,443/TCP`: port, node port when there is one, protocol (TCP by default). */
function formatPorts(ports: readonly ServicePort[]): string {
  return ports
    .map((p) => {
      const protocol = p.protocol || 'TCP';
      return p.nodePort ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
}
