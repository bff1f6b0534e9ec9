// The pod network: the node's pod CIDR (spec.podCIDR, assigned by the control plane) as a
// Docker bridge network that this agent owns. Pod IPs are handed out by Docker's IPAM on it;
// the gateway (the bridge's address on the host, the CIDR's first address) lets the node reach
// every pod directly, which the probes rely on.

import type { Logger } from 'pino';
import type { Engine } from './engine.js';
import { LABELS } from './labels.js';

/** The first host address of an IPv4 CIDR: the bridge's (gateway) address. */
export function gatewayOf(cidr: string): string {
  const [address, bits] = cidr.split('/');
  const octets = (address ?? '').split('.').map(Number);
  const prefix = Number(bits);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) {
    throw new Error(`pod CIDR "${cidr}" is not an IPv4 CIDR with room for pods`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const network = value - (value % 2 ** (32 - prefix));
  const gateway = network + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(gateway / 2 ** shift) % 256).join('.');
}

export function podNetworkName(nodeName: string): string {
  return `skiff-${nodeName}`;
}

export class PodNetwork {
  readonly name: string;
  private cidrNow: string | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly nodeName: string,
    private readonly extraLabels: Record<string, string>,
    private readonly logger: Logger,
  ) {
    this.name = podNetworkName(nodeName);
  }

  /** The CIDR the network was made for, once it exists. */
  get cidr(): string | undefined {
    return this.cidrNow;
  }

  get ready(): boolean {
    return this.cidrNow !== undefined;
  }

  /** Creates the network for `cidr`, or adopts the one a previous run made. */
  async ensure(cidr: string): Promise<void> {
    if (this.cidrNow === cidr) return;
    const gateway = gatewayOf(cidr);
    const existing = (await this.engine.call('list_networks', (d) => d.listNetworks({ filters: { name: [this.name] } }))).find(
      (n) => n.Name === this.name,
    );
    if (existing) {
      const labels = existing.Labels ?? {};
      if (labels[LABELS.node] !== this.nodeName) {
        throw new Error(`Docker network ${this.name} exists but is not this agent's (label ${LABELS.node}=${this.nodeName} missing)`);
      }
      const subnet = existing.IPAM?.Config?.[0]?.Subnet;
      if (subnet === cidr) {
        this.cidrNow = cidr;
        this.logger.info({ network: this.name, cidr }, 'adopted pod network');
        return;
      }
      const inspected = await this.engine.call('inspect_network', (d) => d.getNetwork(existing.Id).inspect());
      if (Object.keys((inspected as { Containers?: object }).Containers ?? {}).length > 0) {
        throw new Error(`Docker network ${this.name} has subnet ${subnet}, not the node's pod CIDR ${cidr}, and still has containers`);
      }
      await this.engine.call('remove_network', (d) => d.getNetwork(existing.Id).remove());
    }
    await this.engine.call('create_network', (d) =>
      d.createNetwork({
        Name: this.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: cidr, Gateway: gateway }] },
        Options: { 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
        Labels: { ...this.extraLabels, [LABELS.node]: this.nodeName, [LABELS.podCidr]: cidr },
      }),
    );
    this.cidrNow = cidr;
    this.logger.info({ network: this.name, cidr, gateway }, 'created pod network');
  }

  /** Forgets the network (e.g. the engine restarted); the next ensure() checks it again. */
  reset(): void {
    this.cidrNow = undefined;
  }
}
