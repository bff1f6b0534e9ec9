// The cluster's certificate authority and the API server's serving certificate.
//
// On first start `ensurePki` generates, in the given directory:
//   ca.crt / ca.key                 cluster CA: ECDSA P-256, self-signed, 10 years
//   apiserver.crt / apiserver.key   serving certificate signed by the CA, 1 year
// Later starts reuse them. The serving certificate is reissued (new key, same CA) when it lacks a
// requested name or address, is within 30 days of expiry, or no longer matches the CA or its key;
// the CA itself is never replaced, because every kubeconfig and node token pins it. Keys are
// written with mode 0600, atomically (temporary file + rename), key before certificate, so a
// crash never leaves a certificate whose key is missing.
//
// `issueCertificate` signs further certificates from the same CA (agents' serving certificates
// for their kubelet-like endpoint, client certificates).

import { X509Certificate as NodeX509Certificate, createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 registers its algorithms with tsyringe, which needs the reflect-metadata API
// installed before it loads: this import must stay above the library's.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 uses Node's global WebCrypto (globalThis.crypto) by default; keys are made with the same.
const subtle = webcrypto.subtle;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const SERVING_VALIDITY_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
/** Certificates start an hour in the past so that a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 60 * 60 * 1000;

export const DEFAULT_SERVICE_IP = '10.43.0.1';

/** The Service names every in-cluster client may use for the API server. */
const KUBERNETES_SERVICE_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export type CertificateUsage = 'server' | 'client' | 'server+client';

export interface IssueOptions {
  commonName: string;
  /** Subject O= entries; Kubernetes reads them as a client certificate's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ips?: string[];
  usage: CertificateUsage;
  validityDays?: number;
  now?: Date;
}

export interface ApiServerPkiOptions {
  /** The address the API server binds; an IP other than a wildcard or loopback is added to the SANs. */
  bindAddress?: string;
  /** The first IP of the service CIDR (the `kubernetes` Service's ClusterIP). */
  serviceIP?: string;
  /** This machine's host name; defaults to os.hostname(). */
  hostname?: string;
  /** More names or addresses (e.g. a load balancer in front of several servers). */
  extraSans?: string[];
  /** The current time; for tests. */
  now?: Date;
}

export interface ApiServerPki {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** sha256 of the CA certificate's DER bytes, lowercase hex; node tokens carry it to pin the CA. */
  caFingerprintSha256: string;
  ca: CertificateAuthority;
  paths: { caCert: string; caKey: string; cert: string; key: string };
}

export interface SubjectAltNames {
  dnsNames: string[];
  ips: string[];
}

const UNSPECIFIED_OR_LOOPBACK = new Set(['0.0.0.0', '::', '127.0.0.1', '::1']);

/** A canonical spelling of an IP address, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The names and addresses the API server's certificate must carry. */
export function apiServerSans(options: ApiServerPkiOptions = {}): SubjectAltNames {
  const dnsNames = ['localhost'];
  const ips = ['127.0.0.1', '::1'];
  const bind = options.bindAddress;
  if (bind && isIP(bind) && !UNSPECIFIED_OR_LOOPBACK.has(canonicalIp(bind))) ips.push(canonicalIp(bind));
  const host = options.hostname ?? osHostname();
  if (host) dnsNames.push(host.toLowerCase());
  dnsNames.push(...KUBERNETES_SERVICE_NAMES);
  ips.push(canonicalIp(options.serviceIP ?? DEFAULT_SERVICE_IP));
  for (const san of options.extraSans ?? []) {
    if (isIP(san)) ips.push(canonicalIp(san));
    else if (san) dnsNames.push(san.toLowerCase());
  }
  return { dnsNames: unique(dnsNames), ips: unique(ips) };
}

/** sha256 of a PEM certificate's DER bytes, lowercase hex. */
export function certificateFingerprintSha256(certPem: string): string {
  return createHash('sha256').update(new NodeX509Certificate(certPem).raw).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Keys and certificates.

function toPem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  return toPem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey));
}

/** Imports a PEM private key (PKCS#8, or the SEC1 `EC PRIVATE KEY` form other tools write). */
async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const pkcs8 = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return subtle.importKey('pkcs8', pkcs8, EC_KEY, false, ['sign']);
}

function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

/** A new self-signed cluster CA. */
export async function createCertificateAuthority(commonName: string, now = new Date()): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: `CN=${commonName}`,
    ...validity(now, CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys) };
}

function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (ch) => `\\${ch}`);
}

/** Signs a new leaf certificate (fresh P-256 key) with the CA. */
export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importSigningKey(ca.keyPem);
  const keys = await generateKeyPair();
  const subject = [
    `CN=${escapeDnValue(options.commonName)}`,
    ...(options.organizations ?? []).map((o) => `O=${escapeDnValue(o)}`),
  ].join(', ');
  const usages: string[] = [];
  if (options.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const altNames: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value): x509.JsonGeneralName => ({ type: 'dns', value })),
    ...(options.ips ?? []).map((value): x509.JsonGeneralName => ({ type: 'ip', value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: caCert.subject,
    ...validity(options.now ?? new Date(), options.validityDays ?? SERVING_VALIDITY_DAYS),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys) };
}

// ---------------------------------------------------------------------------------------------
// Files.

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a file atomically with the given mode (the temporary file is created with it). */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content, { mode, flag: 'wx' });
  await rename(temporary, path);
}

/** The CA in `dir`, or undefined when there is none yet. Throws if the certificate exists without its key. */
export async function loadCertificateAuthority(dir: string): Promise<CertificateAuthority | undefined> {
  const certPem = await readIfExists(join(dir, 'ca.crt'));
  if (certPem === undefined) return undefined;
  const keyPem = await readIfExists(join(dir, 'ca.key'));
  if (keyPem === undefined) {
    throw new Error(`${join(dir, 'ca.crt')} exists but ${join(dir, 'ca.key')} is missing; restore the key or remove both to create a new cluster CA`);
  }
  return { certPem, keyPem };
}

function subjectAltNamesOf(cert: NodeX509Certificate): SubjectAltNames {
  const dnsNames: string[] = [];
  const ips: string[] = [];
  // Node prints e.g. `DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`.
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4).toLowerCase());
    else if (entry.startsWith('IP Address:')) ips.push(canonicalIp(entry.slice('IP Address:'.length)));
  }
  return { dnsNames, ips };
}

/** Why an existing serving certificate must be reissued, or undefined if it is still good. */
function reasonToReissue(certPem: string, keyPem: string, ca: CertificateAuthority, wanted: SubjectAltNames, now: Date): string | undefined {
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'the key does not match the certificate';
  } catch {
    return 'the certificate or key cannot be read';
  }
  const caCert = new NodeX509Certificate(ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'it is not signed by the cluster CA';
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return 'it expires within 30 days';
  const present = subjectAltNamesOf(cert);
  const missing = [
    ...wanted.dnsNames.filter((name) => !present.dnsNames.includes(name)),
    ...wanted.ips.filter((ip) => !present.ips.includes(canonicalIp(ip))),
  ];
  if (missing.length > 0) return `it lacks ${missing.join(', ')}`;
  return undefined;
}

/**
 * Makes sure `dir` holds the cluster CA and a valid serving certificate for the API server, creating
 * or reissuing what is needed, and returns them. `onReissue` hears why a certificate was (re)made.
 */
export async function ensurePki(
  dir: string,
  options: ApiServerPkiOptions = {},
  onReissue: (what: string, why: string) => void = () => {},
): Promise<ApiServerPki> {
  const now = options.now ?? new Date();
  const paths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'apiserver.crt'),
    key: join(dir, 'apiserver.key'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });

  let ca = await loadCertificateAuthority(dir);
  if (!ca) {
    ca = await createCertificateAuthority(`skiff-ca@${Math.floor(now.getTime() / 1000)}`, now);
    await writeFileAtomic(paths.caKey, ca.keyPem, 0o600);
    await writeFileAtomic(paths.caCert, ca.certPem, 0o644);
    onReissue('cluster CA', 'none existed');
  }

  const wanted = apiServerSans(options);
  let serving: IssuedCertificate | undefined;
  const existingCert = await readIfExists(paths.cert);
  const existingKey = await readIfExists(paths.key);
  const why =
    existingCert === undefined || existingKey === undefined
      ? 'none existed'
      : reasonToReissue(existingCert, existingKey, ca, wanted, now);
  if (why === undefined) {
    serving = { certPem: existingCert!, keyPem: existingKey! };
  } else {
    // The new certificate carries exactly the names this start asks for.
    serving = await issueCertificate(ca, { commonName: 'skiff-apiserver', ...wanted, usage: 'server', now });
    await writeFileAtomic(paths.key, serving.keyPem, 0o600);
    await writeFileAtomic(paths.cert, serving.certPem, 0o644);
    onReissue('API server serving certificate', why);
  }

  return {
    caCertPem: ca.certPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    caFingerprintSha256: certificateFingerprintSha256(ca.certPem),
    ca,
    paths,
  };
}
