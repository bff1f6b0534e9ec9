// IP address and CIDR checks with Kubernetes' messages. Like netutils.ParseIPSloppy, IPv4
// octets with leading zeros are accepted (Kubernetes kept that for compatibility).

import { isIPv4, isIPv6 } from 'node:net';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import type { FieldPath } from './field-path.js';

const SLOPPY_IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The canonical form of an IP address, or undefined when it is not one. */
export function parseIP(value: string): { family: 4 | 6; canonical: string } | undefined {
  const v4 = SLOPPY_IPV4.exec(value);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    return octets.every((o) => o <= 255) ? { family: 4, canonical: octets.join('.') } : undefined;
  }
  if (isIPv4(value)) return { family: 4, canonical: value };
  if (isIPv6(value) && !value.includes('%')) return { family: 6, canonical: value.toLowerCase() };
  return undefined;
}

export function isValidIP(path: FieldPath, value: string): FieldError[] {
  return parseIP(value)
    ? []
    : [fieldError.invalid(path.toString(), value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function isValidIPv4Address(path: FieldPath, value: string): FieldError[] {
  return parseIP(value)?.family === 4 ? [] : [fieldError.invalid(path.toString(), value, 'must be a valid IPv4 address')];
}

export function isValidIPv6Address(path: FieldPath, value: string): FieldError[] {
  return parseIP(value)?.family === 6 ? [] : [fieldError.invalid(path.toString(), value, 'must be a valid IPv6 address')];
}

export function parseCIDR(value: string): { family: 4 | 6; prefix: number } | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  return prefix <= (ip.family === 4 ? 32 : 128) ? { family: ip.family, prefix } : undefined;
}

export function isValidCIDR(path: FieldPath, value: string): FieldError[] {
  return parseCIDR(value)
    ? []
    : [fieldError.invalid(path.toString(), value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

function ipv4Octets(canonical: string): number[] {
  return canonical.split('.').map(Number);
}

function expandIPv6(canonical: string): number[] {
  // Eight 16-bit groups; an embedded dotted quad counts as the last two groups.
  let text = canonical;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Octets(dotted[1]);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
}

/**
 * Endpoint and external IPs may not be special addresses (Kubernetes ValidateNonSpecialIP):
 * traffic sent to them would never reach a pod.
 */
export function validateNonSpecialIP(path: FieldPath, value: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [fieldError.invalid(path.toString(), value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  let unspecified: boolean, loopback: boolean, linkLocal: boolean, linkLocalMulticast: boolean;
  if (ip.family === 4) {
    const [a = 0, b = 0, c = 0] = ipv4Octets(ip.canonical);
    unspecified = ip.canonical === '0.0.0.0';
    loopback = a === 127;
    linkLocal = a === 169 && b === 254;
    linkLocalMulticast = a === 224 && b === 0 && c === 0;
  } else {
    const g = expandIPv6(ip.canonical);
    const [first = 0] = g;
    unspecified = g.every((x) => x === 0);
    loopback = g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
    linkLocal = (first & 0xffc0) === 0xfe80;
    linkLocalMulticast = (first & 0xff0f) === 0xff02;
  }
  if (unspecified) errs.push(fieldError.invalid(path.toString(), value, `may not be unspecified (${value})`));
  if (loopback) errs.push(fieldError.invalid(path.toString(), value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(fieldError.invalid(path.toString(), value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) {
    errs.push(fieldError.invalid(path.toString(), value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  }
  return errs;
}
