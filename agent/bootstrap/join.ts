// Joining the cluster, k3s's way (server side: controlplane/apiserver/nodejoin.ts):
//
//   1. GET /cacerts without verifying TLS (the agent cannot yet know the CA),
//   2. compare the CA's sha256 with the hash the join token pins (`K10<hash>::…`); a short token
//      pins nothing and the CA is trusted on first use,
//   3. from then on verify the server with that CA only,
//   4. trade the join token and this machine's node password for the node's own bearer token
//      (`system:node:<name>`),
//   5. with that token, get a serving certificate for the agent's HTTPS endpoint naming the node's
//      name and IP.
//
// Everything is kept in the data directory (files.ts). A restarted agent reuses it without the
// server (so it can come back while the server is down); when the server is reachable it first
// checks that the token is still accepted, and joins again if not. Network failures are retried
// with back-off until the signal aborts; refusals (bad token, CA mismatch, node password) are not.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Agent } from '../../api/undici-core.js';
import type { Dispatcher } from '../../api/undici-core.js';
import { readIfExists, credentialPaths, ensureCredentialDir, ensureNodePassword, readNodeCredential, writeAtomic, writeNodeCredential } from './files.js';
import type { CredentialPaths } from './files.js';
import type { ServingCertificate } from './serving.js';
import { servingCertificateProblem } from './serving.js';
import { certificateHash, parseJoinToken } from './token.js';
import type { JoinToken } from './token.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const CA_CERTS_PATH = '/cacerts';
export const NODE_CREDENTIAL_PATH = '/v1-skiff/node-credential';
export const SERVING_CERTIFICATE_PATH = '/v1-skiff/serving-certificate';

export interface JoinOptions {
  /** `https://host:port` of an API server. */
  server: string;
  /** The join token (the content of `--token-file`). */
  token: string;
  nodeName: string;
  nodeIp: string;
  dataDir: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Back-off between attempts while the server cannot be reached (default 1 s doubling to 30 s). */
  retry?: { initialMs: number; maxMs: number };
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
}

/** What the agent runs with after joining. */
export interface NodeCredentials {
  server: string;
  caCertPem: string;
  /** Bearer token of `system:node:<nodeName>`. */
  token: string;
  serving: ServingCertificate;
}

/** The server refused to let this agent join; retrying will not help. */
export class JoinRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinRefusedError';
  }
}

/** The server could not be reached or failed; worth retrying. */
class ServerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnavailableError';
  }
}

interface Answer {
  status: number;
  text: string;
}

function messageOf(answer: Answer): string {
  try {
    const parsed = JSON.parse(answer.text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not a Status
  }
  return answer.text.slice(0, 300);
}

class JoinClient {
  private pinned: Agent | undefined;

  constructor(
    private readonly options: JoinOptions,
    private readonly token: JoinToken,
  ) {}

  private async send(dispatcher: Dispatcher, method: 'GET' | 'POST', path: string, bearer?: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'skiff-agent/0.1.0' };
    if (bearer) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000);
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({ origin: new URL(this.options.server).origin, path, method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (err) {
      if (this.options.signal?.aborted) throw err;
      const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      // A TLS verification failure is not a network hiccup: the server is not the pinned cluster.
      if (/certificate|self.signed|altname|verify/i.test(why)) throw new JoinRefusedError(`cannot trust ${this.options.server}: ${why}`);
      throw new ServerUnavailableError(`${method} ${path}: ${why}`);
    }
    const answer = { status: res.statusCode, text: await res.body.text() };
    if (answer.status >= 500 || answer.status === 429) throw new ServerUnavailableError(`${method} ${path}: ${answer.status} ${messageOf(answer)}`);
    return answer;
  }

  /** Steps 1-3: the cluster CA, checked against the token's hash (or the CA pinned earlier). */
  async fetchCa(previouslyPinned: string | undefined): Promise<string> {
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    let answer: Answer;
    try {
      answer = await this.send(insecure, 'GET', CA_CERTS_PATH);
    } finally {
      await insecure.close();
    }
    if (answer.status !== 200) throw new JoinRefusedError(`GET ${CA_CERTS_PATH} answered ${answer.status}: ${messageOf(answer)}`);
    const caPem = answer.text;
    let hash: string;
    try {
      hash = certificateHash(caPem);
    } catch {
      throw new JoinRefusedError(`${this.options.server}${CA_CERTS_PATH} did not return a PEM certificate`);
    }
    if (this.token.caHash !== undefined && hash !== this.token.caHash) {
      throw new JoinRefusedError(
        `the cluster CA served by ${this.options.server} (sha256 ${hash}) is not the one the join token pins (sha256 ${this.token.caHash}); is this the right server?`,
      );
    }
    if (this.token.caHash === undefined && previouslyPinned !== undefined && hash !== previouslyPinned) {
      throw new JoinRefusedError(`the cluster CA served by ${this.options.server} changed since this agent joined (sha256 ${previouslyPinned} → ${hash})`);
    }
    this.trust(caPem);
    return caPem;
  }

  trust(caPem: string): void {
    void this.pinned?.close();
    this.pinned = new Agent({ connect: { ca: caPem } });
  }

  private get verified(): Agent {
    if (!this.pinned) throw new Error('the cluster CA is not known yet');
    return this.pinned;
  }

  /** Step 4: the node's own token, for this machine's node password. */
  async nodeToken(password: string): Promise<string> {
    const answer = await this.send(this.verified, 'POST', NODE_CREDENTIAL_PATH, this.token.text, { nodeName: this.options.nodeName, nodePassword: password });
    if (answer.status === 401) throw new JoinRefusedError(`${this.options.server} does not accept the join token (401 Unauthorized)`);
    if (answer.status !== 200) throw new JoinRefusedError(`joining as node "${this.options.nodeName}" was refused (${answer.status}): ${messageOf(answer)}`);
    const token = (JSON.parse(answer.text) as { token?: unknown }).token;
    if (typeof token !== 'string' || !token) throw new JoinRefusedError(`${NODE_CREDENTIAL_PATH} answered without a token`);
    return token;
  }

  /** Step 5: a serving certificate naming the node. */
  async servingCertificate(nodeToken: string): Promise<ServingCertificate> {
    const hostnames = [...new Set([this.options.nodeName, hostname()].map((h) => h.toLowerCase()))];
    const answer = await this.send(this.verified, 'POST', SERVING_CERTIFICATE_PATH, nodeToken, { nodeName: this.options.nodeName, addresses: [this.options.nodeIp], hostnames });
    if (answer.status !== 200) throw new JoinRefusedError(`${SERVING_CERTIFICATE_PATH} was refused (${answer.status}): ${messageOf(answer)}`);
    const parsed = JSON.parse(answer.text) as Partial<ServingCertificate>;
    if (typeof parsed.certPem !== 'string' || typeof parsed.keyPem !== 'string') throw new JoinRefusedError(`${SERVING_CERTIFICATE_PATH} answered without a certificate`);
    return { certPem: parsed.certPem, keyPem: parsed.keyPem };
  }

  /** Whether the server still accepts a node token: true, false, or undefined when it cannot be asked. */
  async accepts(nodeToken: string): Promise<boolean | undefined> {
    try {
      const answer = await this.send(this.verified, 'GET', `/api/v1/nodes/${encodeURIComponent(this.options.nodeName)}`, nodeToken);
      return answer.status !== 401;
    } catch (err) {
      if (err instanceof ServerUnavailableError) return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pinned?.close();
  }
}

async function readServing(paths: CredentialPaths): Promise<ServingCertificate | undefined> {
  const certPem = await readIfExists(paths.servingCert);
  const keyPem = await readIfExists(paths.servingKey);
  return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
}


async function joinOnce(options: JoinOptions, token: JoinToken, paths: CredentialPaths, client: JoinClient): Promise<NodeCredentials> {
  const log = options.logger;
  const pinnedCa = await readIfExists(paths.ca);
  const pinnedHash = pinnedCa === undefined ? undefined : certificateHash(pinnedCa);
  const stored = await readNodeCredential(paths);
  const serving = await readServing(paths);
  const { nodeName, nodeIp } = options;

  // A restart: everything is on disk and still matches the token and flags.
  const reusable =
    pinnedCa !== undefined &&
    (token.caHash === undefined || token.caHash === pinnedHash) &&
    stored?.nodeName === nodeName &&
    stored.caHash === pinnedHash;
  if (reusable) {
    client.trust(pinnedCa);
    const accepted = await client.accepts(stored.token);
    if (accepted === false) {
      log?.warn({ nodeName }, 'the server no longer accepts this node token; joining again');
    } else {
      if (accepted === undefined) log?.warn({ server: options.server }, 'the server cannot be reached; starting with the stored node credentials');
      const problem = serving && servingCertificateProblem(serving, pinnedCa, { nodeName, nodeIp });
      if (serving && problem === undefined) return { server: options.server, caCertPem: pinnedCa, token: stored.token, serving };
      if (accepted === undefined) throw new ServerUnavailableError('a new serving certificate is needed and the server cannot be reached');
      log?.info({ why: problem ?? 'none stored' }, 'asking for a new serving certificate');
      const renewed = await client.servingCertificate(stored.token);
      await saveServing(paths, renewed);
      return { server: options.server, caCertPem: pinnedCa, token: stored.token, serving: renewed };
    }
  }

  const caCertPem = await client.fetchCa(pinnedHash);
  await writeAtomic(paths.ca, caCertPem, 0o644);
  const caHash = certificateHash(caCertPem);
  const nodeToken = await client.nodeToken(await ensureNodePassword(paths));
  await writeNodeCredential(paths, { nodeName, caHash, token: nodeToken });
  log?.info({ nodeName, server: options.server }, 'joined the cluster');
  const fresh = serving && servingCertificateProblem(serving, caCertPem, { nodeName, nodeIp }) === undefined ? serving : await client.servingCertificate(nodeToken);
  if (fresh !== serving) await saveServing(paths, fresh);
  return { server: options.server, caCertPem, token: nodeToken, serving: fresh };
}

async function saveServing(paths: CredentialPaths, serving: ServingCertificate): Promise<void> {
  await writeAtomic(paths.servingKey, serving.keyPem, 0o600);
  await writeAtomic(paths.servingCert, serving.certPem, 0o644);
}

/** Joins (or rejoins) the cluster and returns the node's credentials; see the file comment. */
export async function joinCluster(options: JoinOptions): Promise<NodeCredentials> {
  const token = parseJoinToken(options.token);
  if (!token.caHash) options.logger?.warn('the join token pins no CA (a short token): the cluster CA is trusted on first use');
  const paths = credentialPaths(options.dataDir);
  await ensureCredentialDir(paths);
  const client = new JoinClient(options, token);
  const retry = options.retry ?? { initialMs: 1_000, maxMs: 30_000 };
  let delay = retry.initialMs;
  try {
    for (;;) {
      try {
        return await joinOnce(options, token, paths, client);
      } catch (err) {
        if (!(err instanceof ServerUnavailableError)) throw err;
        options.logger?.warn({ err: err.message, retryInMs: delay }, 'cannot join yet; retrying');
        await sleep(delay, undefined, { signal: options.signal });
        delay = Math.min(delay * 2, retry.maxMs);
      }
    }
  } finally {
    await client.close();
  }
}

/**
 * For an agent that runs with a kubeconfig instead of a join token (an admin credential, in
 * tests): the stored serving certificate if it is still good, else a new one from the server.
 */
export async function ensureServingCertificate(
  options: Omit<JoinOptions, 'token' | 'retry'> & { caCertPem: string; bearerToken: string },
): Promise<ServingCertificate> {
  const paths = credentialPaths(options.dataDir);
  await ensureCredentialDir(paths);
  const stored = await readServing(paths);
  if (stored && servingCertificateProblem(stored, options.caCertPem, options) === undefined) return stored;
  const client = new JoinClient({ ...options, token: options.bearerToken }, { text: options.bearerToken });
  try {
    client.trust(options.caCertPem);
    const serving = await client.servingCertificate(options.bearerToken);
    await saveServing(paths, serving);
    return serving;
  } finally {
    await client.close();
  }
}
