// The strategic-merge-patch metadata of the built-in types: which lists merge by which key, which
// lists of primitives merge as sets, which structs retain only the keys a patch names. Kubernetes
// declares it in the Go struct tags of k8s.io/api and apimachinery (`patchStrategy:"merge"
// patchMergeKey:"name"`, with `+listType`/`+listMapKey` markers) and publishes it in OpenAPI as
// x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key, x-kubernetes-list-type and
// x-kubernetes-list-map-keys. client-node's model classes drop it, so it is written down here
// by hand for every type reachable from the kinds Skiff serves (k8s.io/api v0.34).
//
// This table is the single source for both the server's strategic merge patch and the OpenAPI
// documents, from which `kubectl apply` computes its patches: the two must agree.
// A test checks that every entry names a real definition, property and merge key.

export type PatchStrategyName = 'merge' | 'retainKeys' | 'merge,retainKeys';

export interface PatchMeta {
  /** x-kubernetes-patch-strategy. */
  strategy: PatchStrategyName;
  /** x-kubernetes-patch-merge-key: the field that identifies an item of a merged list of objects. */
  mergeKey?: string;
  /** x-kubernetes-list-type, as k8s.io/api declares it for the same field. */
  listType?: 'map' | 'set' | 'atomic';
  /** x-kubernetes-list-map-keys, for listType map. */
  listMapKeys?: readonly string[];
}

const CORE = 'io.k8s.api.core.v1';
const APPS = 'io.k8s.api.apps.v1';
const BATCH = 'io.k8s.api.batch.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** A list of objects merged by one key, which is also its only list-map key. */
function byKey(key: string): PatchMeta {
  return { strategy: 'merge', mergeKey: key, listType: 'map', listMapKeys: [key] };
}

/** Status conditions: one entry per condition type. */
const CONDITIONS = { conditions: byKey('type') };

/** The container fields Container and EphemeralContainer share (EphemeralContainerCommon). */
const CONTAINER_LISTS: Record<string, PatchMeta> = {
  ports: { strategy: 'merge', mergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
};

export const PATCH_STRATEGIES: Readonly<Record<string, Readonly<Record<string, PatchMeta>>>> = {
  [`${META}.ObjectMeta`]: {
    finalizers: { strategy: 'merge', listType: 'set' },
    ownerReferences: byKey('uid'),
  },

  [`${CORE}.PodSpec`]: {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: byKey('name'),
    containers: byKey('name'),
    ephemeralContainers: byKey('name'),
    imagePullSecrets: byKey('name'),
    hostAliases: byKey('ip'),
    topologySpreadConstraints: {
      strategy: 'merge',
      mergeKey: 'topologyKey',
      listType: 'map',
      listMapKeys: ['topologyKey', 'whenUnsatisfiable'],
    },
    schedulingGates: byKey('name'),
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  [`${CORE}.Container`]: CONTAINER_LISTS,
  [`${CORE}.EphemeralContainer`]: CONTAINER_LISTS,
  [`${CORE}.ContainerStatus`]: {
    volumeMounts: byKey('mountPath'),
    allocatedResourcesStatus: byKey('name'),
  },
  [`${CORE}.PodStatus`]: {
    conditions: byKey('type'),
    // Kubernetes merges hostIPs by ip but declares the list atomic for server-side apply.
    hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
    podIPs: byKey('ip'),
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  [`${CORE}.ServiceSpec`]: {
    ports: { strategy: 'merge', mergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] },
  },
  [`${CORE}.ServiceStatus`]: CONDITIONS,
  [`${CORE}.ServiceAccount`]: {
    secrets: byKey('name'),
  },
  [`${CORE}.NodeSpec`]: {
    podCIDRs: { strategy: 'merge', listType: 'set' },
  },
  [`${CORE}.NodeStatus`]: {
    conditions: byKey('type'),
    addresses: byKey('type'),
  },
  [`${CORE}.NamespaceStatus`]: CONDITIONS,
  // Reachable through StatefulSetSpec.volumeClaimTemplates.
  [`${CORE}.PersistentVolumeClaimStatus`]: CONDITIONS,

  [`${APPS}.DeploymentSpec`]: {
    // Changing strategy.type to Recreate must drop rollingUpdate: only the keys the patch names stay.
    strategy: { strategy: 'retainKeys' },
  },
  [`${APPS}.DeploymentStatus`]: CONDITIONS,
  [`${APPS}.ReplicaSetStatus`]: CONDITIONS,
  [`${APPS}.DaemonSetStatus`]: CONDITIONS,
  [`${APPS}.StatefulSetStatus`]: CONDITIONS,

  [`${BATCH}.JobStatus`]: {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'atomic' },
  },
};

/** The patch metadata of one property of a definition, if Kubernetes declares any. */
export function patchMetaOf(definitionName: string, property: string): PatchMeta | undefined {
  const table = PATCH_STRATEGIES[definitionName];
  return table && Object.hasOwn(table, property) ? table[property] : undefined;
}

export function hasMergeStrategy(meta: PatchMeta | undefined): boolean {
  return meta !== undefined && meta.strategy.split(',').includes('merge');
}

export function hasRetainKeysStrategy(meta: PatchMeta | undefined): boolean {
  return meta !== undefined && meta.strategy.split(',').includes('retainKeys');
}
