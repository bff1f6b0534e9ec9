// Pod volumes (core validation ValidateVolumes): unique DNS-label names and exactly one source,
// with the checks Kubernetes makes on the sources Skiff's users write.

import type { DownwardAPIVolumeFile, KeyToPath, ProjectedVolumeSource, Volume } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label } from '../../../api/names.js';
import { validateObjectFieldSelector, validateResourceFieldSelector, VOLUME_FIELD_PATHS } from './env.js';
import type { FieldPath } from './field-path.js';
import { has, isRecord, items, text } from './json-shapes.js';
import { parseQuantity } from './quantity.js';

/**
 * The volume sources in the order Kubernetes checks them; the second one found is reported at
 * the path Kubernetes uses, typos included (`downwarAPI`, `cephFS`).
 */
const SOURCES: readonly (readonly [key: string, reportedAs: string])[] = [
  ['emptyDir', 'emptyDir'], ['hostPath', 'hostPath'], ['gitRepo', 'gitRepo'], ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'], ['secret', 'secret'], ['nfs', 'nfs'], ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'], ['flocker', 'flocker'], ['persistentVolumeClaim', 'persistentVolumeClaim'], ['rbd', 'rbd'],
  ['cinder', 'cinder'], ['cephfs', 'cephFS'], ['quobyte', 'quobyte'], ['downwardAPI', 'downwarAPI'], ['fc', 'fc'],
  ['flexVolume', 'flexVolume'], ['configMap', 'configMap'], ['azureFile', 'azureFile'], ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'], ['portworxVolume', 'portworxVolume'], ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'], ['projected', 'projected'], ['scaleIO', 'scaleIO'], ['csi', 'csi'], ['ephemeral', 'ephemeral'],
  ['image', 'image'],
];

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

function validateFileMode(mode: unknown, path: FieldPath): FieldError[] {
  if (typeof mode !== 'number') return [];
  return mode < 0 || mode > 0o777 ? [fieldError.invalid(path.toString(), mode, FILE_MODE_ERROR)] : [];
}

function validatePathNoBacksteps(target: string, path: FieldPath): FieldError[] {
  return target.split(/[\\/]/).includes('..') ? [fieldError.invalid(path.toString(), target, "must not contain '..'")] : [];
}

/** A path inside the volume: relative, without '..' (ValidateLocalNonReservedPath). */
export function validateLocalNonReservedPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(fieldError.invalid(path.toString(), target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(fieldError.invalid(path.toString(), target, "must not start with '..'"));
  return errs;
}

export function validateLocalDescendingPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(fieldError.invalid(path.toString(), target, 'must be a relative path'));
  return [...errs, ...validatePathNoBacksteps(target, path)];
}

function validateKeyToPath(kp: KeyToPath, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!text(kp.key)) errs.push(fieldError.required(path.child('key').toString()));
  if (!text(kp.path)) errs.push(fieldError.required(path.child('path').toString()));
  errs.push(...validateLocalNonReservedPath(text(kp.path), path.child('path')));
  errs.push(...validateFileMode(kp.mode, path.child('mode')));
  return errs;
}

function validateDownwardAPIFile(file: DownwardAPIVolumeFile, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!text(file.path)) errs.push(fieldError.required(path.child('path').toString()));
  errs.push(...validateLocalNonReservedPath(text(file.path), path.child('path')));
  if (has(file.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELD_PATHS, path.child('fieldRef')));
    if (has(file.resourceFieldRef)) {
      errs.push(fieldError.invalid(path.toString(), 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    }
  } else if (has(file.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, true, path.child('resourceFieldRef')));
  } else {
    errs.push(fieldError.required(path.toString(), 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file.mode, path.child('mode')));
  return errs;
}

function validateProjected(projected: ProjectedVolumeSource, path: FieldPath): FieldError[] {
  const errs = validateFileMode(projected.defaultMode, path.child('defaultMode'));
  const seen = new Set<string>();
  const claim = (p: string, reported: unknown): void => {
    if (!p) return;
    if (seen.has(p)) errs.push(fieldError.invalid(path.toString(), reported, 'conflicting duplicate paths'));
    seen.add(p);
  };
  items(projected.sources).forEach((src, i) => {
    const srcPath = path.child('sources').index(i);
    let count = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      const ref = src[kind];
      if (!has(ref)) continue;
      count++;
      if (!text(ref.name)) errs.push(fieldError.required(srcPath.child(kind, 'name').toString()));
      items(ref.items).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, srcPath.child(kind, 'items').index(j)));
        claim(text(kp.path), ref.name);
      });
    }
    if (has(src.downwardAPI)) {
      count++;
      for (const file of items(src.downwardAPI.items)) {
        errs.push(...validateDownwardAPIFile(file, srcPath.child('downwardAPI')));
        claim(text(file.path), file.path);
      }
    }
    if (has(src.serviceAccountToken)) {
      count++;
      const token = src.serviceAccountToken;
      const expiration = token.expirationSeconds ?? 0;
      const expPath = srcPath.child('serviceAccountToken', 'expirationSeconds').toString();
      if (expiration < 600) errs.push(fieldError.invalid(expPath, expiration, 'may not specify a duration less than 10 minutes'));
      if (expiration > 2 ** 32) errs.push(fieldError.invalid(expPath, expiration, 'may not specify a duration larger than 2^32 seconds'));
      if (!text(token.path)) errs.push(fieldError.required(path.child('path').toString()));
      else errs.push(...validateLocalNonReservedPath(text(token.path), path.child('path')));
    }
    if (has(src.clusterTrustBundle)) count++;
    if (count > 1) errs.push(fieldError.forbidden(srcPath.toString(), 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

function validateSourceDetails(key: string, volume: Volume, path: FieldPath): FieldError[] {
  switch (key) {
    case 'emptyDir': {
      const limit = volume.emptyDir?.sizeLimit;
      if (limit === undefined || limit === null) return [];
      const q = parseQuantity(limit);
      if (typeof q === 'string') return [fieldError.invalid(path.child('sizeLimit').toString(), limit, q)];
      return q.sign() < 0 ? [fieldError.forbidden(path.child('sizeLimit').toString(), 'SizeLimit field must be a valid resource quantity')] : [];
    }
    case 'hostPath': {
      const hp = volume.hostPath;
      if (!text(hp?.path)) return [fieldError.required(path.child('path').toString())];
      const errs = validatePathNoBacksteps(text(hp?.path), path.child('path'));
      if (hp?.type !== undefined && hp.type !== null && !HOST_PATH_TYPES.includes(hp.type)) {
        errs.push(fieldError.notSupported(path.child('type').toString(), hp.type, HOST_PATH_TYPES));
      }
      return errs;
    }
    case 'secret': {
      const errs = text(volume.secret?.secretName) ? [] : [fieldError.required(path.child('secretName').toString())];
      errs.push(...validateFileMode(volume.secret?.defaultMode, path.child('defaultMode')));
      items(volume.secret?.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      return errs;
    }
    case 'configMap': {
      const errs = text(volume.configMap?.name) ? [] : [fieldError.required(path.child('name').toString())];
      errs.push(...validateFileMode(volume.configMap?.defaultMode, path.child('defaultMode')));
      items(volume.configMap?.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      return errs;
    }
    case 'persistentVolumeClaim':
      return text(volume.persistentVolumeClaim?.claimName) ? [] : [fieldError.required(path.child('claimName').toString())];
    case 'downwardAPI': {
      const errs = validateFileMode(volume.downwardAPI?.defaultMode, path.child('defaultMode'));
      // Kubernetes reports downward API file errors at the source path, without an index.
      for (const file of items(volume.downwardAPI?.items)) errs.push(...validateDownwardAPIFile(file, path));
      return errs;
    }
    case 'projected':
      return validateProjected(volume.projected as ProjectedVolumeSource, path);
    case 'nfs': {
      const nfs = volume.nfs;
      const errs: FieldError[] = [];
      if (!text(nfs?.server)) errs.push(fieldError.required(path.child('server').toString()));
      if (!text(nfs?.path)) errs.push(fieldError.required(path.child('path').toString()));
      if (!text(nfs?.path).startsWith('/')) errs.push(fieldError.invalid(path.child('path').toString(), text(nfs?.path), 'must be an absolute path'));
      return errs;
    }
    default:
      return [];
  }
}

function validateVolumeSource(volume: Volume, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let found = 0;
  for (const [key, reportedAs] of SOURCES) {
    if (!isRecord((volume as unknown as Record<string, unknown>)[key])) continue;
    if (found > 0) {
      errs.push(fieldError.forbidden(path.child(reportedAs).toString(), 'may not specify more than 1 volume type'));
      continue;
    }
    found++;
    errs.push(...validateSourceDetails(key, volume, path.child(key)));
  }
  if (found === 0) errs.push(fieldError.required(path.toString(), 'must specify a volume type'));
  return errs;
}

export interface ValidatedVolumes {
  /** Volumes that passed validation, by name: the ones volume mounts may refer to. */
  byName: Map<string, Volume>;
  errs: FieldError[];
}

export function validateVolumes(volumes: Volume[] | undefined, path: FieldPath): ValidatedVolumes {
  const byName = new Map<string, Volume>();
  const errs: FieldError[] = [];
  items(volumes).forEach((volume, i) => {
    const p = path.index(i);
    const name = text(volume.name);
    const own = validateVolumeSource(volume, p);
    if (!name) own.push(fieldError.required(p.child('name').toString()));
    else own.push(...isDNS1123Label(name).map((msg) => fieldError.invalid(p.child('name').toString(), name, msg)));
    if (byName.has(name)) own.push(fieldError.duplicate(p.child('name').toString(), name));
    if (own.length === 0) byName.set(name, volume);
    else errs.push(...own);
  });
  return { byName, errs };
}
