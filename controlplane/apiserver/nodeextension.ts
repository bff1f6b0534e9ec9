// Everything the API server does for and with node agents, as one ApiServerExtension: the join
// endpoints and per-node identities, the authorizer (admin unrestricted, nodes held to their own
// objects) with the reviews that ask it (`kubectl auth can-i`, `whoami`), pods/log streamed from
// agents, pods/exec, pods/attach and pods/portforward spliced to them, and the metrics.k8s.io API
// read from agents.

import type { Pod } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../../api/errors.js';
import type { AgentClient } from './agentclient.js';
import { MetricsApi, METRICS_RESOURCES } from './metricsapi.js';
import { NodeAuthorizer } from './nodeauth.js';
import { NodeIdentities } from './nodeidentity.js';
import { NodeJoin } from './nodejoin.js';
import { podLogsHandler } from './podlogs.js';
import { podStreamsHandler } from './podstreams.js';
import { SelfReviews, SELF_REVIEW_RESOURCES } from './selfreviews.js';
import type { CertificateAuthority } from './pki.js';
import type { ApiServer, ApiServerExtension } from './server.js';

export interface NodeAccessOptions {
  ca: CertificateAuthority;
  agents: AgentClient;
  /** How long a per-node token's hash is cached (default 10 s). */
  identityCacheMs?: number;
  /** How long an agent's usage summary is reused by the metrics API (default 5 s). */
  metricsCacheMs?: number;
}

export function nodeAccess(options: NodeAccessOptions): (server: ApiServer) => ApiServerExtension {
  return (server) => {
    const pods = () => server.registry('', 'pods');
    const nodes = () => server.registry('', 'nodes');
    const identities = new NodeIdentities(() => server.registry('', 'secrets'), options.identityCacheMs);
    const join = new NodeJoin({ ca: options.ca, identities });
    const metrics = new MetricsApi({ nodes, pods, agents: options.agents, cacheMs: options.metricsCacheMs });
    const authorizer = new NodeAuthorizer({
      getPod: async (namespace, name) => {
        try {
          return (await pods().get(namespace, name)) as Pod;
        } catch (err) {
          if (err instanceof StatusError && err.code === 404) return undefined;
          throw err;
        }
      },
      podsOnNode: async (nodeName, namespace) => (await pods().list(namespace, { filter: (p) => (p as Pod).spec?.nodeName === nodeName })).items as Pod[],
    });
    const reviews = new SelfReviews((user, info, query) => authorizer.authorize(user, info, query));
    return {
      serveUnauthenticated: (req, res, path) => join.serveUnauthenticated(req, res, path),
      authenticate: (authorization) => identities.authenticate(authorization),
      serve: async (req, res, path, query, user) =>
        (await join.serve(req, res, path, user)) || (await metrics.serve(req, res, path, query, user)) || (await reviews.serve(req, res, path, user)),
      authorize: (user, info, query) => authorizer.authorize(user, info, query),
      admitCreate: (user, resource, obj) => authorizer.admitCreate(user, resource, obj),
      discoveryResources: [...METRICS_RESOURCES, ...SELF_REVIEW_RESOURCES],
      podLogs: podLogsHandler({ pods, nodes, agents: options.agents }),
      podStreams: podStreamsHandler({ pods, nodes, agents: options.agents }),
    };
  };
}
