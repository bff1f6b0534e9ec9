// Tables for the simple core/v1 kinds: namespaces, config maps, secrets, service accounts,
// endpoints and resource quotas (limit ranges have Kubernetes' default table, NAME and CREATED
// AT). Pods, services, nodes and events have files of their own.

import type { ConfigMap, Endpoints, Namespace, ResourceQuota, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

export const namespacePrinter = printer<Namespace>(
  [NAME_COLUMN, column('Status', 'string', 'The namespace phase: Active or Terminating.'), AGE_COLUMN],
  // Kubernetes defaults an empty phase to Active.
  (ns, now) => [ns.metadata?.name ?? '', ns.status?.phase || 'Active', timeSince(ns.metadata?.creationTimestamp, now)],
);

export const configMapPrinter = printer<ConfigMap>(
  [NAME_COLUMN, column('Data', 'string', 'Number of keys, text and binary.'), AGE_COLUMN],
  (cm, now) => [
    cm.metadata?.name ?? '',
    Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    timeSince(cm.metadata?.creationTimestamp, now),
  ],
);

export const secretPrinter = printer<Secret>(
  [NAME_COLUMN, column('Type', 'string', 'The secret type.'), column('Data', 'string', 'Number of keys.'), AGE_COLUMN],
  // Kubernetes defaults an empty type to Opaque.
  (secret, now) => [
    secret.metadata?.name ?? '',
    secret.type || 'Opaque',
    Object.keys(secret.data ?? {}).length,
    timeSince(secret.metadata?.creationTimestamp, now),
  ],
);

export const serviceAccountPrinter = printer<ServiceAccount>(
  [NAME_COLUMN, column('Secrets', 'string', 'Number of secrets the service account references.'), AGE_COLUMN],
  (sa, now) => [sa.metadata?.name ?? '', (sa.secrets ?? []).length, timeSince(sa.metadata?.creationTimestamp, now)],
);

export const endpointsPrinter = printer<Endpoints>(
  [NAME_COLUMN, column('Endpoints', 'string', 'Ready addresses with their ports, the first three.'), AGE_COLUMN],
  (ep, now) => [ep.metadata?.name ?? '', formatEndpoints(ep), timeSince(ep.metadata?.creationTimestamp, now)],
);

const SHOWN_ENDPOINTS = 3;

/**
 * `10.42.0.5:80,10.42.0.6:80,10.42.0.7:80 + 2 more...`: ready addresses, once per port of their
 * subset (bare IPs for a subset without ports), the first three shown and the rest counted.
 */
function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const ips = (subset.addresses ?? []).map((a) => a.ip);
    const targets = subset.ports?.length ? subset.ports.map((p) => ips.map((ip) => joinHostPort(ip, p.port))) : [ips];
    for (const list of targets) {
      count += list.length;
      for (const target of list) {
        if (shown.length === SHOWN_ENDPOINTS) break;
        shown.push(target);
      }
    }
  }
  const text = shown.join(',');
  return count > SHOWN_ENDPOINTS ? `${text} + ${count - SHOWN_ENDPOINTS} more...` : text;
}

/** `ip:port`, with IPv6 addresses in brackets (Go's net.JoinHostPort). */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `pods: 1/10, requests.cpu: 500m/1` (used/hard from the status, in name order): limits.* in the
 * LIMIT column, everything else in REQUEST, as Kubernetes 1.32 prints a ResourceQuota.
 */
function quotaCells(quota: ResourceQuota): [request: string, limit: string] {
  const hard = quota.status?.hard ?? {};
  const used = quota.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    // An absent used quantity prints as Go's zero Quantity.
    const cell = `${name}: ${used[name] ?? '0'}/${hard[name]}`;
    (name.split('.')[0] === 'limits' && name.includes('.') ? limit : request).push(cell);
  }
  return [request.join(', '), limit.join(', ')];
}

export const resourceQuotaPrinter = printer<ResourceQuota>(
  [
    NAME_COLUMN,
    AGE_COLUMN,
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
  ],
  (quota, now) => [quota.metadata?.name ?? '', timeSince(quota.metadata?.creationTimestamp, now), ...quotaCells(quota)],
);
