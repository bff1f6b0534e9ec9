// API discovery documents, in both forms kubectl v1.32 understands (research/k8s-api.md §2):
// aggregated discovery (apidiscovery.k8s.io/v2, two requests for everything) and the legacy
// per-group-version APIResourceLists that older clients and client-node use.

import { apiVersionOf } from '../../api/resources.js';
import type { ResourceType } from '../../api/resources.js';

export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** True when the client accepts the aggregated form (kubectl lists it first). */
export function wantsAggregated(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const p = part.replace(/\s+/g, '');
    return p.startsWith('application/json;') && p.includes('g=apidiscovery.k8s.io') && p.includes('v=v2;') && p.includes('as=APIGroupDiscoveryList');
  });
}

interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceType[];
}

export class Discovery {
  private readonly groups: Map<string, GroupVersion[]> = new Map();
  private cached = new Map<string, string>();

  constructor(
    resources: readonly ResourceType[],
    private readonly serverAddress: () => string,
  ) {
    for (const r of resources) {
      const versions = this.groups.get(r.group) ?? [];
      let gv = versions.find((v) => v.version === r.version);
      if (!gv) {
        gv = { group: r.group, version: r.version, resources: [] };
        versions.push(gv);
      }
      gv.resources.push(r);
      this.groups.set(r.group, versions);
    }
  }

  private memo(key: string, build: () => unknown): string {
    let text = this.cached.get(key);
    if (text === undefined) {
      text = JSON.stringify(build());
      this.cached.set(key, text);
    }
    return text;
  }

  // --- aggregated ------------------------------------------------------------------------------

  private aggregatedGroup(name: string, versions: GroupVersion[]): unknown {
    return {
      metadata: { name, creationTimestamp: null },
      versions: versions.map((gv) => ({
        version: gv.version,
        freshness: 'Current',
        resources: gv.resources.map((r) => {
          const entry: Record<string, unknown> = {
            resource: r.plural,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: r.verbs,
          };
          if (r.shortNames.length) entry['shortNames'] = r.shortNames;
          if (r.categories.length) entry['categories'] = r.categories;
          if (r.subresources.length) {
            entry['subresources'] = r.subresources.map((s) => ({
              subresource: s.name,
              responseKind: s.kind ?? { group: r.group, version: r.version, kind: r.kind },
              verbs: s.verbs,
            }));
          }
          return entry;
        }),
      })),
    };
  }

  /** `/api` (core) or `/apis` (every other group) as an APIGroupDiscoveryList. */
  aggregated(which: 'api' | 'apis'): string {
    return this.memo(`agg:${which}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      metadata: {},
      items: [...this.groups.entries()]
        .filter(([group]) => (which === 'api' ? group === '' : group !== ''))
        .map(([group, versions]) => this.aggregatedGroup(group, versions)),
    }));
  }

  // --- legacy ---------------------------------------------------------------------------------

  apiVersions(): string {
    // Not memoised: the address depends on how the server is reached.
    return JSON.stringify({
      kind: 'APIVersions',
      versions: (this.groups.get('') ?? []).map((gv) => gv.version),
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress() }],
    });
  }

  private apiGroup(name: string, versions: GroupVersion[]): unknown {
    const list = versions.map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
    return { name, versions: list, preferredVersion: list[0] };
  }

  apiGroupList(): string {
    return this.memo('groups', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...this.groups.entries()].filter(([g]) => g !== '').map(([g, versions]) => this.apiGroup(g, versions)),
    }));
  }

  apiGroupDocument(name: string): string | undefined {
    const versions = this.groups.get(name);
    if (!name || !versions) return undefined;
    return this.memo(`group:${name}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...(this.apiGroup(name, versions) as object) }));
  }

  apiResourceList(group: string, version: string): string | undefined {
    const gv = this.groups.get(group)?.find((v) => v.version === version);
    if (!gv) return undefined;
    return this.memo(`resources:${group}/${version}`, () => ({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: apiVersionOf(gv),
      resources: gv.resources.flatMap((r) => {
        const main: Record<string, unknown> = {
          name: r.plural,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: r.verbs,
        };
        if (r.shortNames.length) main['shortNames'] = r.shortNames;
        if (r.categories.length) main['categories'] = r.categories;
        const subs = r.subresources.map((s) => {
          const entry: Record<string, unknown> = {
            name: `${r.plural}/${s.name}`,
            singularName: '',
            namespaced: r.namespaced,
            kind: s.kind?.kind ?? r.kind,
            verbs: s.verbs,
          };
          if (s.kind && (s.kind.group !== r.group || s.kind.version !== r.version)) {
            entry['group'] = s.kind.group;
            entry['version'] = s.kind.version;
          }
          return entry;
        });
        return [main, ...subs];
      }),
    }));
  }
}
