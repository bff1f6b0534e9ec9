// Kubeconfig files: writing the admin kubeconfig that `skiff server` hands to the real kubectl,
// and reading one for Skiff's own clients (the current context's server, CA and credentials).
//
// Reading follows kubectl's rules for the parts Skiff uses: `certificate-authority-data` (base64)
// wins over `certificate-authority` (a path), `token` over `tokenFile`, and relative paths are
// relative to the kubeconfig file's directory. Exec and auth-provider plugins are not supported.
//
// The YAML library is loaded on first use: an agent that joins with a token never reads a
// kubeconfig, and keeping yaml out of its heap saves about 0.7 MB (bench/agent.ts).

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface KubeconfigWriteOptions {
  /** e.g. `https://127.0.0.1:6443`. */
  server: string;
  caPem: string;
  token: string;
  clusterName?: string;
  userName?: string;
  contextName?: string;
  /** The context's default namespace, if not `default`. */
  namespace?: string;
}

/** What a client needs to reach the API server of the selected context. */
export interface KubeconfigConnection {
  contextName: string;
  server: string;
  caPem?: string;
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  insecureSkipTLSVerify?: boolean;
  /** The context's namespace, if it sets one. */
  namespace?: string;
}

/** Writes a kubeconfig with one cluster, user and context, the context current; mode 0600. */
export async function writeKubeconfig(path: string, options: KubeconfigWriteOptions): Promise<void> {
  const clusterName = options.clusterName ?? 'skiff';
  const userName = options.userName ?? 'skiff-admin';
  const contextName = options.contextName ?? 'skiff';
  const context: Record<string, string> = { cluster: clusterName, user: userName };
  if (options.namespace) context.namespace = options.namespace;
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem, 'utf8').toString('base64') },
      },
    ],
    users: [{ name: userName, user: { token: options.token } }],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
    preferences: {},
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Atomic replace, created 0600 so the token is never readable by others, even briefly.
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const { stringify } = await import('yaml');
  await writeFile(temporary, stringify(document), { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
}

// ---------------------------------------------------------------------------------------------
// Reading.

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(map: YamlMap, key: string): string | undefined {
  const value = map[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The `inner` map of the named entry of a kubeconfig list (`clusters`, `users`, `contexts`). */
function namedEntry(config: YamlMap, list: string, inner: string, name: string, path: string): YamlMap {
  const entries = config[list];
  const entry = Array.isArray(entries) ? entries.find((e): e is YamlMap => isMap(e) && e.name === name) : undefined;
  if (!entry) throw new Error(`${path}: ${inner} "${name}" does not exist`);
  const body = entry[inner];
  return isMap(body) ? body : {};
}

function decodeBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/**
 * Reads the current context (or `contextName`) of a kubeconfig file. Throws a plain Error naming the
 * file when the context, its cluster or its user is missing or a referenced file cannot be read.
 */
export async function readKubeconfig(path: string, contextName?: string): Promise<KubeconfigConnection> {
  const { parse } = await import('yaml');
  const parsed: unknown = parse(await readFile(path, 'utf8'));
  if (!isMap(parsed)) throw new Error(`${path}: not a kubeconfig (expected a YAML mapping)`);
  const name = contextName ?? stringField(parsed, 'current-context');
  if (!name) throw new Error(`${path}: current-context is not set`);
  const context = namedEntry(parsed, 'contexts', 'context', name, path);
  const clusterName = stringField(context, 'cluster');
  if (!clusterName) throw new Error(`${path}: context "${name}" names no cluster`);
  const cluster = namedEntry(parsed, 'clusters', 'cluster', clusterName, path);
  const userName = stringField(context, 'user');
  const user = userName ? namedEntry(parsed, 'users', 'user', userName, path) : {};

  const server = stringField(cluster, 'server');
  if (!server) throw new Error(`${path}: cluster "${clusterName}" has no server`);
  const base = dirname(path);
  const readReferenced = (file: string): Promise<string> => readFile(isAbsolute(file) ? file : resolve(base, file), 'utf8');
  const dataOrFile = async (map: YamlMap, dataKey: string, fileKey: string): Promise<string | undefined> => {
    const data = stringField(map, dataKey);
    if (data) return decodeBase64(data);
    const file = stringField(map, fileKey);
    return file ? readReferenced(file) : undefined;
  };

  const connection: KubeconfigConnection = { contextName: name, server };
  const caPem = await dataOrFile(cluster, 'certificate-authority-data', 'certificate-authority');
  if (caPem) connection.caPem = caPem;
  if (cluster['insecure-skip-tls-verify'] === true) connection.insecureSkipTLSVerify = true;
  let token = stringField(user, 'token');
  const tokenFile = stringField(user, 'tokenFile');
  if (!token && tokenFile) token = (await readReferenced(tokenFile)).trim();
  if (token) connection.token = token;
  const clientCertPem = await dataOrFile(user, 'client-certificate-data', 'client-certificate');
  if (clientCertPem) connection.clientCertPem = clientCertPem;
  const clientKeyPem = await dataOrFile(user, 'client-key-data', 'client-key');
  if (clientKeyPem) connection.clientKeyPem = clientKeyPem;
  const namespace = stringField(context, 'namespace');
  if (namespace) connection.namespace = namespace;
  return connection;
}
