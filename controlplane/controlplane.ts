// `skiff server`: everything a control-plane host runs, assembled from a data directory. On first
// start it creates the cluster CA, the API server's certificate, the admin and node tokens and
// the admin kubeconfig; on every start it opens the store and serves the API.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { writeKubeconfig } from '../api/kubeconfig.js';
import { firstServiceIp, parseCidr } from './apiserver/allocator.js';
import { loadAuthentication } from './apiserver/auth.js';
import { ensurePki } from './apiserver/pki.js';
import { ApiServer } from './apiserver/server.js';
import type { ApiServerOptions } from './apiserver/server.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

export interface ControlPlaneConfig {
  dataDir: string;
  bindAddress: string;
  port: number;
  /** The address agents and pods use to reach the API; defaults to the bind address or 127.0.0.1. */
  advertiseAddress?: string;
  serviceCidr: string;
  nodePortRange: string;
  /** Extra names/IPs for the serving certificate. */
  tlsSans?: string[];
  logger?: Logger;
  /** Use this store instead of the embedded SQLite one under the data directory. */
  store?: Store;
  bookmarkIntervalMs?: number;
  compactionIntervalMs?: number;
  podLogs?: ApiServerOptions['podLogs'];
}

export interface ControlPlane {
  apiServer: ApiServer;
  store: Store;
  /** `https://host:port` as clients should use it. */
  url: string;
  caCertPem: string;
  adminToken: string;
  nodeToken: string;
  kubeconfigPath: string;
  close(): Promise<void>;
}

export const DEFAULT_CONTROL_PLANE: Omit<ControlPlaneConfig, 'dataDir'> = {
  bindAddress: '0.0.0.0',
  port: 6443,
  serviceCidr: '10.43.0.0/16',
  nodePortRange: '30000-32767',
};

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<ControlPlane> {
  const logger = config.logger ?? pino({ name: 'skiff-server' });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const advertise = config.advertiseAddress ?? (isWildcard(config.bindAddress) ? '127.0.0.1' : config.bindAddress);
  const serviceIp = firstServiceIp(parseCidr(config.serviceCidr));
  const pki = await ensurePki(
    config.dataDir,
    { bindAddress: config.bindAddress, serviceIP: serviceIp, extraSans: [advertise, ...(config.tlsSans ?? [])] },
    (what, why) => logger.info({ what, why }, 'issued certificate'),
  );
  const auth = await loadAuthentication(config.dataDir, pki.caCertPem);
  const store = config.store ?? SqliteStore.open(join(config.dataDir, 'db', 'state.db'));
  let apiServer: ApiServer;
  try {
    apiServer = await ApiServer.start({
      store,
      bindAddress: config.bindAddress,
      port: config.port,
      tls: { certPem: pki.certPem, keyPem: pki.keyPem },
      authenticate: (header) => auth.authenticator.authenticate(header),
      advertiseAddress: advertise,
      serviceCidr: config.serviceCidr,
      nodePortRange: config.nodePortRange,
      bookmarkIntervalMs: config.bookmarkIntervalMs,
      compactionIntervalMs: config.compactionIntervalMs,
      logger: logger.child({ component: 'apiserver' }),
      podLogs: config.podLogs,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const host = isWildcard(config.bindAddress) ? advertise : config.bindAddress;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${apiServer.port}`;
  const kubeconfigPath = join(config.dataDir, 'admin.kubeconfig');
  await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, token: auth.adminToken });
  logger.info({ url, kubeconfig: kubeconfigPath }, 'API server ready');
  return {
    apiServer,
    store,
    url,
    caCertPem: pki.caCertPem,
    adminToken: auth.adminToken,
    nodeToken: auth.nodeToken,
    kubeconfigPath,
    async close() {
      await apiServer.close();
      await store.close();
    },
  };
}
