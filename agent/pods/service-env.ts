// Service environment variables, as the kubelet injects them into every container: for the
// `kubernetes` Service of the default namespace always (in-cluster clients find the API through
// KUBERNETES_SERVICE_HOST and _PORT), and for each Service of the pod's own namespace when
// spec.enableServiceLinks is true, the default. Only Services with a cluster IP count. Each gets
// the Kubernetes form (NAME_SERVICE_HOST, NAME_SERVICE_PORT, NAME_SERVICE_PORT_<PORTNAME>) and the
// Docker-links form (NAME_PORT, NAME_PORT_<port>_<PROTO> with _PROTO, _PORT and _ADDR).
// Variables the container defines itself win (env.ts).

import type { Service } from 'kubernetes-types/core/v1.js';

const MASTER_SERVICES = new Set(['kubernetes']);

function envName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

function hasClusterIp(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** The Services whose variables a pod in `namespace` gets, by name. */
export function linkedServices(services: readonly Service[], namespace: string, enableServiceLinks: boolean): Service[] {
  const byName = new Map<string, Service>();
  for (const service of services) {
    if (!hasClusterIp(service)) continue;
    const name = service.metadata?.name ?? '';
    if (service.metadata?.namespace === 'default' && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, service);
    } else if (service.metadata?.namespace === namespace && enableServiceLinks) {
      byName.set(name, service);
    }
  }
  return [...byName.values()];
}

export function serviceEnvVars(services: readonly Service[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const service of services) {
    const prefix = envName(service.metadata?.name ?? '');
    const ip = service.spec!.clusterIP!;
    const ports = service.spec?.ports ?? [];
    env.set(`${prefix}_SERVICE_HOST`, ip);
    if (ports[0]) env.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
    for (const port of ports) if (port.name) env.set(`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port));
    const host = ip.includes(':') ? `[${ip}]` : ip;
    ports.forEach((port, i) => {
      const protocol = (port.protocol ?? 'TCP').toLowerCase();
      const url = `${protocol}://${host}:${port.port}`;
      if (i === 0) env.set(`${prefix}_PORT`, url);
      const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
      env.set(portPrefix, url);
      env.set(`${portPrefix}_PROTO`, protocol);
      env.set(`${portPrefix}_PORT`, String(port.port));
      env.set(`${portPrefix}_ADDR`, ip);
    });
  }
  return env;
}
