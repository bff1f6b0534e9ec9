// Whether the agent's serving certificate can be kept: signed by the cluster CA, matching its
// key, naming this node's name and IP, and more than 30 days from expiry (otherwise it is renewed
// at the next start, as the API server's own certificate is).

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
}

/** A canonical spelling of an IP, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Why the certificate must be reissued, or undefined when it is good. */
export function servingCertificateProblem(
  serving: ServingCertificate,
  caPem: string,
  wanted: { nodeName: string; nodeIp: string },
  now = new Date(),
): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(serving.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(serving.keyPem))) return 'the key does not match the certificate';
  } catch {
    return 'the certificate or key cannot be read';
  }
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'it is not signed by the cluster CA';
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return 'it expires within 30 days';
  const sans = (cert.subjectAltName ?? '').split(', ');
  if (!sans.includes(`DNS:${wanted.nodeName.toLowerCase()}`)) return `it does not name ${wanted.nodeName}`;
  const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => canonicalIp(s.slice('IP Address:'.length)));
  if (!ips.includes(canonicalIp(wanted.nodeIp))) return `it does not name ${wanted.nodeIp}`;
  return undefined;
}
