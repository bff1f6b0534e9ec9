// The pod CIDRs of a cluster CIDR: `10.42.0.0/16` with a node mask of 24 is 256 subnets
// `10.42.N.0/24`, numbered 0..255. Pure arithmetic; which are used is the controller's business.

import { formatIpv4, parseIpv4 } from '../../apiserver/allocator.js';

export class CidrSet {
  /** How many node subnets the cluster CIDR holds. */
  readonly size: number;
  private readonly base: number;
  private readonly subnetSize: number;

  constructor(
    readonly clusterCidr: string,
    readonly nodeMaskSize: number,
  ) {
    const [ip, bits] = clusterCidr.split('/');
    const address = parseIpv4(ip ?? '');
    const prefix = Number(bits);
    if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
      throw new Error(`invalid cluster CIDR ${JSON.stringify(clusterCidr)}: Skiff allocates IPv4 pod CIDRs (e.g. 10.42.0.0/16)`);
    }
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < prefix || nodeMaskSize > 30) {
      throw new Error(`node CIDR mask size ${nodeMaskSize} must be between the cluster CIDR's prefix (${prefix}) and 30`);
    }
    if (nodeMaskSize - prefix > 20) throw new Error(`cluster CIDR ${clusterCidr} holds too many /${nodeMaskSize} subnets (at most 2^20)`);
    const clusterSize = 2 ** (32 - prefix);
    this.base = address - (address % clusterSize);
    this.subnetSize = 2 ** (32 - nodeMaskSize);
    this.size = 2 ** (nodeMaskSize - prefix);
  }

  subnet(index: number): string {
    return `${formatIpv4(this.base + index * this.subnetSize)}/${this.nodeMaskSize}`;
  }

  /** The index of a subnet of this set, or undefined for any other CIDR. */
  indexOf(cidr: string): number | undefined {
    const [ip, bits] = cidr.split('/');
    const address = parseIpv4(ip ?? '');
    if (address === undefined || Number(bits) !== this.nodeMaskSize) return undefined;
    const offset = address - this.base;
    if (offset < 0 || offset % this.subnetSize !== 0) return undefined;
    const index = offset / this.subnetSize;
    return index < this.size ? index : undefined;
  }

  /** The lowest index not in `used`, or undefined when all are taken. */
  firstFree(used: ReadonlySet<number> | ReadonlyMap<number, unknown>): number | undefined {
    for (let i = 0; i < this.size; i++) if (!used.has(i)) return i;
    return undefined;
  }
}
