// Defaults for pod specs, in Pods and in every pod template (core/v1 SetDefaults_PodSpec,
// SetDefaults_Container, SetDefaults_Probe, SetDefaults_Volume and the generated per-field
// defaults), plus the Pod-only ones (SetDefaults_Pod).

import { canonicalizeResourceList, child, isObject, objectsIn, setDefault } from './values.js';

/** The tag of an image reference as Kubernetes' parsers.ParseImageName sees it. */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const lastSegment = named.slice(named.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon >= 0) return lastSegment.slice(colon + 1);
  // An untagged reference means `latest`, unless it is pinned by digest.
  return at >= 0 ? '' : 'latest';
}

function defaultHTTPGet(handler: unknown): void {
  if (!isObject(handler) || !isObject(handler['httpGet'])) return;
  setDefault(handler['httpGet'], 'path', '/');
  setDefault(handler['httpGet'], 'scheme', 'HTTP');
}

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  for (const [field, value] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (!probe[field]) probe[field] = value;
  }
  defaultHTTPGet(probe);
}

function defaultFieldRef(holder: unknown): void {
  if (isObject(holder) && isObject(holder['fieldRef'])) setDefault(holder['fieldRef'], 'apiVersion', 'v1');
}

function defaultContainer(c: Record<string, unknown>): void {
  if (!c['imagePullPolicy']) {
    c['imagePullPolicy'] = imageTag(typeof c['image'] === 'string' ? c['image'] : '') === 'latest' ? 'Always' : 'IfNotPresent';
  }
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  for (const port of objectsIn(c['ports'])) setDefault(port, 'protocol', 'TCP');
  for (const env of objectsIn(c['env'])) defaultFieldRef(env['valueFrom']);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  if (isObject(c['lifecycle'])) {
    defaultHTTPGet(c['lifecycle']['postStart']);
    defaultHTTPGet(c['lifecycle']['preStop']);
  }
  if (isObject(c['resources'])) {
    canonicalizeResourceList(c['resources']['limits']);
    canonicalizeResourceList(c['resources']['requests']);
  }
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
];
/** 0644: files from Secrets, ConfigMaps and the downward API are world-readable but not writable. */
const DEFAULT_FILE_MODE = 420;

function defaultVolume(v: Record<string, unknown>): void {
  // A volume without a source is an empty directory.
  if (!VOLUME_SOURCES.some((s) => isObject(v[s]))) v['emptyDir'] = {};
  if (isObject(v['hostPath'])) setDefault(v['hostPath'], 'type', '');
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    if (isObject(v[source])) setDefault(v[source], 'defaultMode', DEFAULT_FILE_MODE);
  }
  if (isObject(v['downwardAPI'])) for (const item of objectsIn(v['downwardAPI']['items'])) defaultFieldRef(item);
  if (isObject(v['projected'])) {
    for (const src of objectsIn(v['projected']['sources'])) {
      if (isObject(src['serviceAccountToken'])) setDefault(src['serviceAccountToken'], 'expirationSeconds', 3600);
      if (isObject(src['downwardAPI'])) for (const item of objectsIn(src['downwardAPI']['items'])) defaultFieldRef(item);
    }
  }
  if (isObject(v['ephemeral']) && isObject(v['ephemeral']['volumeClaimTemplate'])) {
    setDefault(child(v['ephemeral']['volumeClaimTemplate'], 'spec'), 'volumeMode', 'Filesystem');
  }
}

/** SetDefaults_PodSpec and everything generated under it; applies to Pods and templates alike. */
export function defaultPodSpec(spec: Record<string, unknown>): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  if (!isObject(spec['securityContext'])) spec['securityContext'] = {};
  if (typeof spec['terminationGracePeriodSeconds'] !== 'number') spec['terminationGracePeriodSeconds'] = 30;
  setDefault(spec, 'schedulerName', 'default-scheduler');
  // core/v1 keeps the deprecated `serviceAccount` in step with `serviceAccountName` (conversion).
  if (!spec['serviceAccountName'] && typeof spec['serviceAccount'] === 'string' && spec['serviceAccount']) {
    spec['serviceAccountName'] = spec['serviceAccount'];
  }
  if (typeof spec['serviceAccountName'] === 'string' && spec['serviceAccountName']) spec['serviceAccount'] = spec['serviceAccountName'];
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) for (const c of objectsIn(spec[list])) defaultContainer(c);
  for (const v of objectsIn(spec['volumes'])) defaultVolume(v);
  if (isObject(spec['overhead'])) canonicalizeResourceList(spec['overhead']);
}

/** SetDefaults_Pod: defaults only a Pod gets, not the templates it may come from. */
export function defaultPodOnly(spec: Record<string, unknown>): void {
  for (const list of ['containers', 'initContainers']) {
    for (const c of objectsIn(spec[list])) {
      // A limit without a request is also the request: the container gets what it may use.
      const resources = isObject(c['resources']) ? c['resources'] : undefined;
      if (!resources || !isObject(resources['limits'])) continue;
      const requests = child(resources, 'requests');
      for (const [name, value] of Object.entries(resources['limits'])) if (!(name in requests)) requests[name] = value;
    }
  }
  if (typeof spec['enableServiceLinks'] !== 'boolean') spec['enableServiceLinks'] = true;
  if (spec['hostNetwork'] === true) {
    // With host networking a container port is a host port.
    for (const list of ['containers', 'initContainers']) {
      for (const c of objectsIn(spec[list])) for (const port of objectsIn(c['ports'])) if (!port['hostPort']) port['hostPort'] = port['containerPort'];
    }
  }
}

/** A pod template inside a workload: metadata left as written, spec defaulted like a Pod's. */
export function defaultPodTemplate(template: unknown): void {
  if (!isObject(template)) return;
  defaultPodSpec(child(template, 'spec'));
}
