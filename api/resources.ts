// The resource types Skiff serves: the vocabulary that the API server (routing, discovery,
// OpenAPI), the REST client and the informers share. One entry per resource, as Kubernetes'
// discovery documents describe it.

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Subresource {
  name: string;
  /** The kind the subresource speaks, when it is not the parent's (e.g. autoscaling/v1 Scale). */
  kind?: GroupVersionKind;
  verbs: readonly string[];
  /**
   * A connect subresource (exec, attach): served on upgraded connections, its kind (the options
   * in the query) has no schema and is never a request or response body.
   */
  connect?: boolean;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** Plural lower-case resource name as it appears in URLs: `deployments`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  verbs: readonly string[];
  subresources: readonly Subresource[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const STATUS: Subresource = { name: 'status', verbs: ['get', 'patch', 'update'] };
const SCALE: Subresource = {
  name: 'scale',
  kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  verbs: ['get', 'patch', 'update'],
};

interface Spec {
  group?: string;
  version?: string;
  kind: string;
  plural: string;
  namespaced?: boolean;
  shortNames?: readonly string[];
  categories?: readonly string[];
  verbs?: readonly string[];
  subresources?: readonly Subresource[];
}

function resource(spec: Spec): ResourceType {
  return {
    group: spec.group ?? '',
    version: spec.version ?? 'v1',
    kind: spec.kind,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    namespaced: spec.namespaced ?? true,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? ALL_VERBS,
    subresources: spec.subresources ?? [],
  };
}

export const RESOURCES: readonly ResourceType[] = [
  // core/v1
  resource({ kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], subresources: [STATUS], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  resource({ kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: [STATUS] }),
  resource({
    kind: 'Pod',
    plural: 'pods',
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      STATUS,
      { name: 'binding', kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
      { name: 'log', kind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
      // What `kubectl drain` looks for in discovery to evict rather than delete.
      { name: 'eviction', kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
      // Connect subresources: served on upgraded connections only (controlplane/apiserver/podstreams.ts).
      { name: 'exec', kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, verbs: ['create', 'get'], connect: true },
      { name: 'attach', kind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, verbs: ['create', 'get'], connect: true },
      { name: 'portforward', kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, verbs: ['create', 'get'], connect: true },
    ],
  }),
  resource({ kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], subresources: [STATUS], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  resource({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
  resource({ kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] }),
  resource({ kind: 'Secret', plural: 'secrets' }),
  resource({ kind: 'Event', plural: 'events', shortNames: ['ev'] }),
  resource({ kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'] }),
  resource({ kind: 'LimitRange', plural: 'limitranges', shortNames: ['limits'] }),
  resource({ kind: 'ResourceQuota', plural: 'resourcequotas', shortNames: ['quota'], subresources: [STATUS] }),
  // discovery.k8s.io/v1
  resource({ group: 'discovery.k8s.io', kind: 'EndpointSlice', plural: 'endpointslices' }),
  // coordination.k8s.io/v1
  resource({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases' }),
  // apps/v1
  resource({ group: 'apps', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: [STATUS, SCALE] }),
  resource({ group: 'apps', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: [STATUS, SCALE] }),
  resource({ group: 'apps', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], subresources: [STATUS] }),
  resource({ group: 'apps', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: [STATUS, SCALE] }),
  resource({ group: 'apps', kind: 'ControllerRevision', plural: 'controllerrevisions' }),
  // batch/v1
  resource({ group: 'batch', kind: 'Job', plural: 'jobs', categories: ['all'], subresources: [STATUS] }),
  resource({ group: 'batch', kind: 'CronJob', plural: 'cronjobs', shortNames: ['cj'], categories: ['all'], subresources: [STATUS] }),
  // autoscaling/v2 and autoscaling/v1: two views of the same stored objects (v2 first: the
  // preferred version, the one stored)
  resource({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: [STATUS] }),
  resource({ group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: [STATUS] }),
  // policy/v1
  resource({ group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: [STATUS] }),
  // events.k8s.io/v1
  resource({ group: 'events.k8s.io', kind: 'Event', plural: 'events', shortNames: ['ev'] }),
];

/**
 * Each resource once, in its preferred version: what controllers that act on every kind (garbage
 * collection, namespace deletion) watch, so that a kind served in two versions is not seen twice.
 */
export const PREFERRED_RESOURCES: readonly ResourceType[] = RESOURCES.filter(
  (r, i) => RESOURCES.findIndex((x) => x.group === r.group && x.plural === r.plural) === i,
);

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const byGroupVersionPlural = new Map<string, ResourceType>();
const byGroupVersionKind = new Map<string, ResourceType>();
for (const r of RESOURCES) {
  byGroupVersionPlural.set(`${r.group}/${r.version}/${r.plural}`, r);
  byGroupVersionKind.set(`${r.group}/${r.version}/${r.kind}`, r);
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byGroupVersionPlural.get(`${group}/${version}/${plural}`);
}

export function resourceForKind(group: string, version: string, kind: string): ResourceType | undefined {
  return byGroupVersionKind.get(`${group}/${version}/${kind}`);
}

/** The URL path of a collection or an object: `/apis/apps/v1/namespaces/default/deployments/web`. */
export function resourcePath(r: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let path = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${r.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

/** Group versions in the order discovery lists them (core first). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

/**
 * The served resource `plural` of `group` (core: ''), in its preferred version; throws for a
 * resource Skiff does not serve.
 */
export function resourceFor(group: string, plural: string): ResourceType {
  const r = RESOURCES.find((x) => x.group === group && x.plural === plural);
  if (!r) throw new Error(`Skiff serves no resource ${plural}${group ? `.${group}` : ''}`);
  return r;
}
