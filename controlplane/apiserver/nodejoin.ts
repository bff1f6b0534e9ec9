// The join endpoints an agent calls (k3s's supervisor endpoints, in Skiff's words):
//
//   GET  /cacerts                        no credentials: the cluster CA, PEM. The agent fetches it
//                                        without verifying TLS, compares its sha256 with the hash
//                                        in its join token, and from then on trusts only that CA.
//   POST /v1-skiff/node-credential       join token (`system:node-bootstrap`) or admin.
//                                        Body {nodeName, nodePassword} → {nodeName, token}: the
//                                        node's own bearer token (nodeidentity.ts).
//   POST /v1-skiff/serving-certificate   a node's own token (or admin, naming `nodeName`). Body
//                                        {addresses, hostnames} → {certPem, keyPem}: the serving
//                                        certificate of the agent's HTTPS endpoint, signed by the
//                                        cluster CA, naming the node.
//
// The join token may call nothing else (nodeauth.ts refuses it everywhere).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { badRequest, methodNotAllowed, StatusError } from '../../api/errors.js';
import { isDNS1123Subdomain } from '../../api/names.js';
import { NODE_BOOTSTRAP_USER } from './auth.js';
import { decodeObject, readBody, sendJson, sendText } from './http.js';
import { isAdmin, nodeNameOf, NODES_GROUP, NODE_USER_PREFIX } from './nodeauth.js';
import type { NodeIdentities } from './nodeidentity.js';
import type { CertificateAuthority } from './pki.js';
import { issueCertificate } from './pki.js';
import type { User } from './server.js';

export const CA_CERTS_PATH = '/cacerts';
export const NODE_CREDENTIAL_PATH = '/v1-skiff/node-credential';
export const SERVING_CERTIFICATE_PATH = '/v1-skiff/serving-certificate';

const MAX_SANS = 16;

export interface NodeJoinOptions {
  ca: CertificateAuthority;
  identities: NodeIdentities;
}

function requirePost(req: IncomingMessage, path: string): void {
  if (req.method !== 'POST') throw methodNotAllowed(`${req.method ?? 'GET'} is not allowed on ${path}`);
}

function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw badRequest(`${field} is required and must be a string`);
  return value;
}

function stringList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw badRequest(`${field} must be a list of strings`);
  if (value.length > MAX_SANS) throw badRequest(`${field} may hold at most ${MAX_SANS} entries`);
  return value as string[];
}

export class NodeJoin {
  constructor(private readonly options: NodeJoinOptions) {}

  /** GET /cacerts; true when the request was for it. */
  async serveUnauthenticated(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (path !== CA_CERTS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(`${req.method ?? ''} is not allowed on ${path}`);
    sendText(res, 200, 'text/plain; charset=utf-8', this.options.ca.certPem);
    return true;
  }

  /** The authenticated join endpoints; true when the request was for one of them. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string, user: User): Promise<boolean> {
    if (path === NODE_CREDENTIAL_PATH) {
      requirePost(req, path);
      if (user.name !== NODE_BOOTSTRAP_USER.name && !isAdmin(user)) {
        throw new StatusError(403, 'Forbidden', `forbidden: User "${user.name}" cannot post path "${path}": only the node join token may join nodes`, {});
      }
      const body = decodeObject(await readBody(req), req.headers['content-type'], 'NodeCredentialRequest');
      const nodeName = stringField(body, 'nodeName');
      const token = await this.options.identities.issueToken(nodeName, stringField(body, 'nodePassword'));
      sendJson(res, 200, { nodeName, token });
      return true;
    }
    if (path === SERVING_CERTIFICATE_PATH) {
      requirePost(req, path);
      const admin = isAdmin(user);
      if (nodeNameOf(user) === undefined && !admin) {
        throw new StatusError(403, 'Forbidden', `forbidden: User "${user.name}" cannot post path "${path}": only a node may ask for its serving certificate`, {});
      }
      const body = decodeObject(await readBody(req), req.headers['content-type'], 'ServingCertificateRequest');
      // A node gets a certificate for itself; the admin (an agent run with an admin kubeconfig) names the node.
      const nodeName = admin ? stringField(body, 'nodeName') : nodeNameOf(user)!;
      if (isDNS1123Subdomain(nodeName).length > 0) throw badRequest(`invalid node name ${JSON.stringify(nodeName)}`);
      const addresses = stringList(body, 'addresses');
      const hostnames = stringList(body, 'hostnames');
      const badAddress = addresses.find((a) => isIP(a) === 0);
      if (badAddress !== undefined) throw badRequest(`addresses: ${JSON.stringify(badAddress)} is not an IP address`);
      const badName = hostnames.find((h) => isDNS1123Subdomain(h.toLowerCase()).length > 0);
      if (badName !== undefined) throw badRequest(`hostnames: ${JSON.stringify(badName)} is not a DNS name`);
      // Like a kubelet serving certificate: CN system:node:<name>, O system:nodes, the node's names and IPs.
      const issued = await issueCertificate(this.options.ca, {
        commonName: `${NODE_USER_PREFIX}${nodeName}`,
        organizations: [NODES_GROUP],
        dnsNames: [...new Set([nodeName, ...hostnames.map((h) => h.toLowerCase())])],
        ips: [...new Set(addresses)],
        usage: 'server',
      });
      sendJson(res, 200, { certPem: issued.certPem, keyPem: issued.keyPem });
      return true;
    }
    return false;
  }
}
