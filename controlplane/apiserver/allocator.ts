// ClusterIP and NodePort allocation for Services. Every reserved IP or port is a key in the
// store (`/registry/ranges/...`), created in the same transaction as the Service that uses it
// and deleted in the same transaction as its release, so a reservation is never leaked or
// shared, whichever server (with etcd, several) handles the request.

import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { fieldError, invalid, internalError } from '../../api/errors.js';
import type { FieldError } from '../../api/errors.js';
import type { Store, TxnOp } from '../store/store.js';

const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';

export interface Ipv4Range {
  cidr: string;
  base: number;
  size: number;
}

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Ipv4Range {
  const [ip, bits] = cidr.split('/');
  const addr = parseIpv4(ip ?? '');
  const prefix = Number(bits);
  if (addr === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)} (expected e.g. 10.43.0.0/16, prefix 8-30)`);
  }
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  return { cidr: `${formatIpv4(base)}/${prefix}`, base, size };
}

export function parsePortRange(text: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(text);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new Error(`invalid port range ${JSON.stringify(text)} (expected e.g. 30000-32767)`);
  return { min, max };
}

/** The first usable address of a range: kube-apiserver gives it to the `kubernetes` Service. */
export function firstServiceIp(range: Ipv4Range): string {
  return formatIpv4(range.base + 1);
}

/** The tenth address of a range: the cluster DNS's well-known ClusterIP (10.43.0.10), as k3s derives it. */
export function clusterDnsIp(range: Ipv4Range): string {
  return formatIpv4(range.base + 10);
}

function hasClusterIp(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
}

function needsNodePorts(svc: Service): boolean {
  return svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
}

function owner(svc: Service): string {
  return JSON.stringify({ namespace: svc.metadata?.namespace, name: svc.metadata?.name });
}

export class ServiceAllocator {
  readonly range: Ipv4Range;
  /** Dynamic allocations avoid the lower band, which stays free for requested IPs (KEP-3070). */
  private readonly dynamicStart: number;

  constructor(
    private readonly store: Store,
    serviceCidr: string,
    readonly nodePorts: { min: number; max: number },
  ) {
    this.range = parseCidr(serviceCidr);
    this.dynamicStart = Math.min(Math.max(16, Math.floor(this.range.size / 16)), 256);
  }

  private async isFree(key: string): Promise<boolean> {
    return (await this.store.get(key)) === undefined;
  }

  private async pickIp(): Promise<string> {
    const first = this.range.base + this.dynamicStart;
    const count = this.range.size - 1 - this.dynamicStart; // excludes the broadcast address
    for (let attempt = 0; attempt < 32; attempt++) {
      const ip = formatIpv4(first + Math.floor(Math.random() * count));
      if (await this.isFree(IP_PREFIX + ip)) return ip;
    }
    // Nearly full: walk the whole range once (including the lower band) before giving up.
    const taken = new Set((await this.store.list({ prefix: IP_PREFIX })).items.map((kv) => kv.key.slice(IP_PREFIX.length)));
    for (let offset = 1; offset < this.range.size - 1; offset++) {
      const ip = formatIpv4(this.range.base + offset);
      if (!taken.has(ip)) return ip;
    }
    throw internalError(`failed to allocate a serviceIP: range is full (${this.range.cidr})`);
  }

  private async pickPort(exclude: ReadonlySet<number>): Promise<number> {
    const span = this.nodePorts.max - this.nodePorts.min + 1;
    for (let attempt = 0; attempt < 32; attempt++) {
      const port = this.nodePorts.min + Math.floor(Math.random() * span);
      if (!exclude.has(port) && (await this.isFree(PORT_PREFIX + port))) return port;
    }
    const taken = new Set((await this.store.list({ prefix: PORT_PREFIX })).items.map((kv) => Number(kv.key.slice(PORT_PREFIX.length))));
    for (let port = this.nodePorts.min; port <= this.nodePorts.max; port++) {
      if (!taken.has(port) && !exclude.has(port)) return port;
    }
    throw internalError(`failed to allocate a nodePort: range is full (${this.nodePorts.min}-${this.nodePorts.max})`);
  }

  /**
   * Fills in `spec.clusterIP(s)` and `spec.ports[].nodePort` of a Service being created (old
   * undefined) or updated, and returns the store operations that reserve what is new and free
   * what is no longer used. Requested values outside the range or already taken are a 422.
   */
  async allocate(svc: Service, old: Service | undefined): Promise<TxnOp[]> {
    const spec = svc.spec ?? (svc.spec = {});
    const ops: TxnOp[] = [];
    const errs: FieldError[] = [];

    const oldIp = old && hasClusterIp(old) ? old.spec?.clusterIP : undefined;
    if (hasClusterIp(svc)) {
      const requested = spec.clusterIP || spec.clusterIPs?.[0];
      if (requested && requested === oldIp) {
        // Unchanged: already reserved.
      } else if (requested) {
        const n = parseIpv4(requested);
        if (n === undefined || n <= this.range.base || n >= this.range.base + this.range.size - 1) {
          errs.push(
            fieldError.invalid(
              'spec.clusterIPs',
              [requested],
              `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.range.cidr}`,
            ),
          );
        } else if (!(await this.isFree(IP_PREFIX + requested))) {
          errs.push(fieldError.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
        } else {
          ops.push({ op: 'create', key: IP_PREFIX + requested, value: owner(svc) });
        }
      } else {
        const ip = await this.pickIp();
        spec.clusterIP = ip;
        ops.push({ op: 'create', key: IP_PREFIX + ip, value: owner(svc) });
      }
      if (spec.clusterIP || requested) {
        spec.clusterIP = spec.clusterIP || requested;
        spec.clusterIPs = [spec.clusterIP!];
      }
    }
    if (oldIp && oldIp !== (hasClusterIp(svc) ? spec.clusterIP : undefined)) ops.push({ op: 'delete', key: IP_PREFIX + oldIp });

    const oldPorts = new Set(old && needsNodePorts(old) ? (old.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p) : []);
    const keptPorts = new Set<number>();
    if (needsNodePorts(svc)) {
      const ports: ServicePort[] = spec.ports ?? [];
      const claimed = new Set<number>();
      for (const [i, port] of ports.entries()) {
        const requested = port.nodePort;
        if (requested) {
          if (requested < this.nodePorts.min || requested > this.nodePorts.max) {
            errs.push(
              fieldError.invalid(
                `spec.ports[${i}].nodePort`,
                requested,
                `provided port is not in the valid range. The range of valid ports is ${this.nodePorts.min}-${this.nodePorts.max}`,
              ),
            );
            continue;
          }
          if (oldPorts.has(requested) || claimed.has(requested)) {
            // Already this Service's, or the same number used for another protocol of it.
            if (oldPorts.has(requested)) keptPorts.add(requested);
            claimed.add(requested);
            continue;
          }
          if (!(await this.isFree(PORT_PREFIX + requested))) {
            errs.push(fieldError.invalid(`spec.ports[${i}].nodePort`, requested, 'provided port is already allocated'));
            continue;
          }
          claimed.add(requested);
          ops.push({ op: 'create', key: PORT_PREFIX + requested, value: owner(svc) });
        } else {
          const picked = await this.pickPort(claimed);
          port.nodePort = picked;
          claimed.add(picked);
          ops.push({ op: 'create', key: PORT_PREFIX + picked, value: owner(svc) });
        }
      }
    } else {
      for (const port of spec.ports ?? []) delete port.nodePort;
    }
    for (const port of oldPorts) if (!keptPorts.has(port)) ops.push({ op: 'delete', key: PORT_PREFIX + port });

    if (errs.length > 0) throw invalid({ group: '', kind: 'Service' }, svc.metadata?.name ?? '', errs);
    return ops;
  }

  /** Operations that free everything a Service holds, for its deletion. */
  release(svc: Service): TxnOp[] {
    const ops: TxnOp[] = [];
    if (hasClusterIp(svc) && svc.spec?.clusterIP) ops.push({ op: 'delete', key: IP_PREFIX + svc.spec.clusterIP });
    if (needsNodePorts(svc)) {
      const ports = new Set((svc.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
      for (const port of ports) ops.push({ op: 'delete', key: PORT_PREFIX + port });
    }
    return ops;
  }

  /** Every reservation, for tests and for repairing state written by an older version. */
  async reservations(): Promise<{ ips: string[]; nodePorts: number[] }> {
    const ips = (await this.store.list({ prefix: IP_PREFIX })).items.map((kv) => kv.key.slice(IP_PREFIX.length));
    const nodePorts = (await this.store.list({ prefix: PORT_PREFIX })).items.map((kv) => Number(kv.key.slice(PORT_PREFIX.length)));
    return { ips, nodePorts };
  }
}
