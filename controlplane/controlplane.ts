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
import { AgentClient } from './apiserver/agentclient.js';
import { nodeAccess } from './apiserver/nodeextension.js';
import { ensurePki, issueCertificate } from './apiserver/pki.js';
import { ApiServer } from './apiserver/server.js';
import type { ApiServerOptions } from './apiserver/server.js';
import type { DefaultTolerationSeconds } from './apiserver/defaults/tolerations.js';
import { checkControllerManagerSettings, startServerControllerManager } from './controllers/server-manager.js';
import type { ControllerManagerSettings, ServerControllerManager } from './controllers/server-manager.js';
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
  /**
   * Run the leader-elected scheduler and controllers with these settings (`{}`: all of them,
   * Kubernetes' timings). Absent: the API alone (`skiff server` always passes settings).
   */
  controllerManager?: ControllerManagerSettings;
  /** Tolerations for the not-ready/unreachable taints that pods get at admission (default 300 s each). */
  defaultTolerationSeconds?: DefaultTolerationSeconds;
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
  controllerManager: ServerControllerManager | undefined;
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
  // Refused before anything starts: a failure once the API serves would leave it running.
  if (config.controllerManager) checkControllerManagerSettings(config.controllerManager);
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
  // The API server's credential towards agents (pods/log, metrics): a client certificate from the
  // cluster CA in system:masters, which is what agents accept. Made afresh at every start.
  const agents = new AgentClient({
    caCertPem: pki.caCertPem,
    clientCertificate: await issueCertificate(pki.ca, { commonName: 'skiff-apiserver', organizations: ['system:masters'], usage: 'client' }),
  });
  const store = config.store ?? SqliteStore.open(join(config.dataDir, 'db', 'state.db'));
  // The controller-manager's way to the API: a unix socket in the data directory (no TLS on a
  // loopback hop), unless the path is too long for one (sun_path holds about 100 bytes).
  const socketPath = join(config.dataDir, 'apiserver.sock');
  const loopbackSocketPath = Buffer.byteLength(socketPath) < 100 ? socketPath : undefined;
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
      loopbackSocketPath,
      extension: nodeAccess({ ca: pki.ca, agents }),
      defaultTolerationSeconds: config.defaultTolerationSeconds,
    });
  } catch (err) {
    await agents.close();
    await store.close();
    throw err;
  }
  const host = isWildcard(config.bindAddress) ? advertise : config.bindAddress;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${apiServer.port}`;
  const kubeconfigPath = join(config.dataDir, 'admin.kubeconfig');
  await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, token: auth.adminToken });
  logger.info({ url, kubeconfig: kubeconfigPath }, 'API server ready');
  // Controllers reach this server through its unix socket, else over loopback HTTPS.
  const loopback = isWildcard(config.bindAddress) ? '127.0.0.1' : config.bindAddress;
  const endpoint = loopbackSocketPath
    ? { url: 'http://localhost', socketPath: loopbackSocketPath, caCertPem: pki.caCertPem, token: auth.adminToken }
    : { url: `https://${loopback.includes(':') ? `[${loopback}]` : loopback}:${apiServer.port}`, caCertPem: pki.caCertPem, token: auth.adminToken };
  const controllerManager = config.controllerManager ? startServerControllerManager(endpoint, config.controllerManager, logger) : undefined;
  return {
    apiServer,
    store,
    url,
    caCertPem: pki.caCertPem,
    adminToken: auth.adminToken,
    nodeToken: auth.nodeToken,
    kubeconfigPath,
    controllerManager,
    async close() {
      await controllerManager?.close();
      await apiServer.close();
      await agents.close();
      await store.close();
    },
  };
}
