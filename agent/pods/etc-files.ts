// /etc/hosts and /etc/resolv.conf of a pod, written by the agent into the pod's directory and
// bind-mounted into each of its containers, as the kubelet does: the hosts file names the pod
// by its hostname (and FQDN when it has a subdomain) plus spec.hostAliases; resolv.conf follows
// the pod's dnsPolicy (ClusterFirst: the cluster DNS with the Kubernetes search path and
// ndots:5; Default: the node's resolver; None: dnsConfig only) and merges spec.dnsConfig.

import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podHostname } from '../runtime/specs.js';

export function hostsFile(pod: Pod, podIp: string | undefined, clusterDomain: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const hostname = podHostname(pod);
  const subdomain = pod.spec?.subdomain;
  if (podIp) {
    if (subdomain) lines.push(`${podIp}\t${hostname}.${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}\t${hostname}`);
    else lines.push(`${podIp}\t${hostname}`);
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const alias of aliases) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

export interface ResolverConfig {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolverConfig {
  const config: ResolverConfig = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0]) config.nameservers.push(values[0]);
    else if (keyword === 'search' || keyword === 'domain') config.searches = values;
    else if (keyword === 'options') config.options.push(...values);
  }
  return config;
}

let nodeResolver: ResolverConfig | undefined;

/** The node's own resolver (read once). */
export function nodeResolverConfig(path = '/etc/resolv.conf'): ResolverConfig {
  if (!nodeResolver) {
    try {
      nodeResolver = parseResolvConf(readFileSync(path, 'utf8'));
    } catch {
      nodeResolver = { nameservers: [], searches: [], options: [] };
    }
  }
  return nodeResolver;
}

function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const option of base) byName.set(option.split(':')[0] ?? option, option);
  for (const option of extra) if (option.name) byName.set(option.name, option.value !== undefined ? `${option.name}:${option.value}` : option.name);
  return [...byName.values()];
}

export function podResolverConfig(pod: Pod, clusterDns: string[], clusterDomain: string, node: ResolverConfig): ResolverConfig {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  let config: ResolverConfig;
  if (policy === 'None') config = { nameservers: [], searches: [], options: [] };
  else if (policy === 'Default' || (policy === 'ClusterFirst' && hostNetwork)) config = { ...node };
  else {
    const namespace = pod.metadata?.namespace ?? 'default';
    config = {
      nameservers: [...clusterDns],
      searches: [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain, ...node.searches],
      options: ['ndots:5'],
    };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config = {
      nameservers: [...config.nameservers, ...(extra.nameservers ?? [])],
      searches: [...new Set([...config.searches, ...(extra.searches ?? [])])],
      options: mergeOptions(config.options, extra.options ?? []),
    };
  }
  // The resolver reads at most three nameservers and 32 search domains (the kubelet trims the same).
  return { nameservers: config.nameservers.slice(0, 3), searches: config.searches.slice(0, 32), options: config.options };
}

export function resolvConf(config: ResolverConfig): string {
  const lines: string[] = [];
  if (config.searches.length) lines.push(`search ${config.searches.join(' ')}`);
  for (const ns of config.nameservers) lines.push(`nameserver ${ns}`);
  if (config.options.length) lines.push(`options ${config.options.join(' ')}`);
  return lines.join('\n') + '\n';
}
