// Pod volumes on the node: each volume of the pod becomes a directory (or a host path) that the
// containers bind-mount. emptyDir lives under the pod's directory in the data dir (with medium
// Memory, on a tmpfs mounted there, sized as the kubelet sizes it, and unmounted when the pod's
// directory goes: `releaseVolumes`); hostPath is
// checked (and created) per its type; configMap, secret, downwardAPI and projected volumes are
// files written atomically and refreshed on every sync, so updates reach running containers.
// A source Skiff cannot provide is an error with a message that names it.

import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, isAbsolute, join } from 'node:path';
import type { Container, DownwardAPIVolumeFile, EmptyDirVolumeSource, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../api/quantity.js';
import type { NodeAllocatable, PodRuntimeFields } from '../pods/downward.js';
import { fieldRefValue, resourceFieldValue } from '../pods/downward.js';
import type { ReferencedObjects } from '../pods/referenced-objects.js';
import { configMapData, secretData } from '../pods/referenced-objects.js';
import type { ProjectedFile } from './atomic-writer.js';
import { writeProjection } from './atomic-writer.js';

/** A volume could not be set up; the pod waits (ContainerCreating) and the agent retries. */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
  constructor(
    readonly volume: string,
    readonly detail: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`);
  }
}

export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

export interface VolumeContext {
  pod: Pod;
  podDir: string;
  objects: ReferencedObjects;
  runtime: PodRuntimeFields;
  allocatable: NodeAllocatable;
}

const SUPPORTED = 'emptyDir, hostPath, configMap, secret, downwardAPI, projected (configMap, secret, downwardAPI sources)';
const DEFAULT_MODE = 0o644;

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** The files of a ConfigMap or Secret, all keys or the listed items. */
function keyedFiles(data: Record<string, Buffer>, items: readonly KeyToPath[] | undefined, defaultMode: number, what: string, optional: boolean): ProjectedFile[] {
  if (!items?.length) return Object.entries(data).map(([key, value]) => ({ path: key, data: value, mode: defaultMode }));
  const files: ProjectedFile[] = [];
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      if (optional) continue;
      throw new Error(`${what} references non-existent config key: ${item.key}`);
    }
    files.push({ path: item.path, data: value, mode: item.mode ?? defaultMode });
  }
  return files;
}


function downwardFiles(ctx: VolumeContext, items: readonly DownwardAPIVolumeFile[] | undefined, defaultMode: number): ProjectedFile[] {
  return (items ?? []).map((item) => {
    let value: string;
    if (item.fieldRef) value = fieldRefValue(ctx.pod, item.fieldRef, ctx.runtime);
    else if (item.resourceFieldRef) value = resourceFieldValue(ctx.pod, undefined, item.resourceFieldRef, ctx.allocatable);
    else throw new Error(`downwardAPI item ${item.path} has neither fieldRef nor resourceFieldRef`);
    return { path: item.path, data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode };
  });
}

async function configMapFiles(ctx: VolumeContext, source: { name?: string; items?: readonly KeyToPath[]; optional?: boolean }, mode: number): Promise<ProjectedFile[]> {
  const name = source.name ?? '';
  const cm = await ctx.objects.configMap(ctx.pod.metadata?.namespace ?? 'default', name);
  if (!cm) {
    if (source.optional) return [];
    throw new Error(`configmap "${name}" not found`);
  }
  return keyedFiles(configMapData(cm), source.items, mode, `configMap ${name}`, source.optional === true);
}

async function secretFiles(ctx: VolumeContext, name: string, source: { items?: readonly KeyToPath[]; optional?: boolean }, mode: number): Promise<ProjectedFile[]> {
  const secret = await ctx.objects.secret(ctx.pod.metadata?.namespace ?? 'default', name);
  if (!secret) {
    if (source.optional) return [];
    throw new Error(`secret "${name}" not found`);
  }
  return keyedFiles(secretData(secret), source.items, mode, `secret ${name}`, source.optional === true);
}

async function hostPathVolume(path: string, type: string): Promise<void> {
  if (!isAbsolute(path)) throw new Error(`hostPath ${path} must be an absolute path`);
  const info = await stat(path).catch(() => undefined);
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!info) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!info.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'Directory':
      if (!info?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!info) await writeFile(path, '', { mode: 0o644, flag: 'a' });
      else if (!info.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'File':
      if (!info?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'Socket':
      if (!info?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!info?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!info?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`hostPath type "${type}" is not supported`);
  }
}

/** The name of the volume source a Volume uses (`persistentVolumeClaim`, `nfs`…). */
function sourceName(volume: Volume): string {
  return Object.keys(volume).find((k) => k !== 'name') ?? 'none';
}

const run = promisify(execFile);
const EMPTY_DIR = 'kubernetes.io~empty-dir';

/** True when `dir` is the root of a mount (its device differs from its parent's). */
async function isMountPoint(dir: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(dir), stat(dirname(dir))]);
  return self.dev !== parent.dev;
}

/**
 * The size of a memory-backed emptyDir, as the kubelet computes it: the node's allocatable
 * memory, or less when every container of the pod has a memory limit (their sum) or the volume
 * has a sizeLimit. The tmpfs counts against no container's limit here (Docker charges its pages
 * to whoever touches them first), so the size is what keeps one pod from filling the node's memory.
 */
export function memoryVolumeBytes(pod: Pod, source: EmptyDirVolumeSource, allocatableMemoryBytes: number): number {
  let bytes = allocatableMemoryBytes;
  const containers = pod.spec?.containers ?? [];
  const limits = containers.map((c) => (c.resources?.limits as Record<string, string | number> | undefined)?.['memory']);
  if (containers.length > 0 && limits.every((l) => l !== undefined)) {
    bytes = Math.min(bytes, limits.reduce((sum: number, l) => sum + parseQuantity(l!).value(), 0));
  }
  if (source.sizeLimit !== undefined) bytes = Math.min(bytes, parseQuantity(source.sizeLimit).value());
  return Math.max(bytes, 4096);
}

async function emptyDir(ctx: VolumeContext, volume: Volume & { emptyDir: EmptyDirVolumeSource }): Promise<PreparedVolume> {
  const dir = join(ctx.podDir, 'volumes', EMPTY_DIR, volume.name);
  const medium = volume.emptyDir.medium ?? '';
  if (medium !== '' && medium !== 'Memory') {
    throw new Error(`emptyDir medium "${medium}" is not supported by Skiff's agent (supported: "" for the node's disk, "Memory")`);
  }
  await mkdir(dir, { recursive: true });
  if (medium === 'Memory' && !(await isMountPoint(dir))) {
    const size = memoryVolumeBytes(ctx.pod, volume.emptyDir, ctx.allocatable.memoryBytes);
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0777,nosuid,nodev`, 'tmpfs', dir]).catch((err: Error & { stderr?: string }) => {
      throw new Error(`mounting a tmpfs for a memory-backed emptyDir failed: ${(err.stderr ?? err.message).trim()}`);
    });
  }
  // Any container user may write an emptyDir, as in Kubernetes.
  await chmod(dir, 0o777);
  return { hostPath: dir, readOnly: false };
}

/** Unmounts the pod's memory-backed emptyDirs; call before removing the pod's directory. */
export async function releaseVolumes(podDir: string): Promise<void> {
  const base = join(podDir, 'volumes', EMPTY_DIR);
  const names = await readdir(base).catch(() => [] as string[]);
  for (const name of names) {
    const dir = join(base, name);
    if (!(await isMountPoint(dir).catch(() => false))) continue;
    // The containers are gone by now; a lazy unmount covers a process still holding it open.
    await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
  }
}

async function prepareOne(ctx: VolumeContext, volume: Volume): Promise<PreparedVolume> {
  const base = join(ctx.podDir, 'volumes');
  if (volume.emptyDir) return emptyDir(ctx, volume as Volume & { emptyDir: EmptyDirVolumeSource });
  if (volume.hostPath) {
    await hostPathVolume(volume.hostPath.path, volume.hostPath.type ?? '');
    return { hostPath: volume.hostPath.path, readOnly: false };
  }
  if (volume.configMap) {
    const dir = join(base, 'kubernetes.io~configmap', volume.name);
    await writeProjection(dir, await configMapFiles(ctx, volume.configMap, volume.configMap.defaultMode ?? DEFAULT_MODE));
    return { hostPath: dir, readOnly: true };
  }
  if (volume.secret) {
    const dir = join(base, 'kubernetes.io~secret', volume.name);
    await writeProjection(dir, await secretFiles(ctx, volume.secret.secretName ?? '', volume.secret, volume.secret.defaultMode ?? DEFAULT_MODE));
    return { hostPath: dir, readOnly: true };
  }
  if (volume.downwardAPI) {
    const dir = join(base, 'kubernetes.io~downward-api', volume.name);
    await writeProjection(dir, downwardFiles(ctx, volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? DEFAULT_MODE));
    return { hostPath: dir, readOnly: true };
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
    const files: ProjectedFile[] = [];
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) files.push(...(await configMapFiles(ctx, source.configMap, mode)));
      else if (source.secret) files.push(...(await secretFiles(ctx, source.secret.name ?? '', source.secret, mode)));
      else if (source.downwardAPI) files.push(...downwardFiles(ctx, source.downwardAPI.items, mode));
      else {
        const kind = Object.keys(source)[0] ?? 'unknown';
        throw new Error(`projected source ${kind} is not supported by Skiff's agent (supported: configMap, secret, downwardAPI)`);
      }
    }
    const dir = join(base, 'kubernetes.io~projected', volume.name);
    await writeProjection(dir, files);
    return { hostPath: dir, readOnly: true };
  }
  throw new Error(`volume source ${sourceName(volume)} is not supported by Skiff's agent (supported: ${SUPPORTED})`);
}

/** Sets up every volume of the pod; throws VolumeError for the first that fails. */
export async function prepareVolumes(ctx: VolumeContext): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  for (const volume of ctx.pod.spec?.volumes ?? []) {
    try {
      prepared.set(volume.name, await prepareOne(ctx, volume));
    } catch (err) {
      throw new VolumeError(volume.name, (err as Error).message);
    }
  }
  return prepared;
}

/** Docker bind specs for a container's volumeMounts. */
export async function containerBinds(container: Container, volumes: Map<string, PreparedVolume>): Promise<string[]> {
  const binds: string[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new VolumeError(mount.name, `container ${container.name} mounts a volume the pod does not define`);
    let host = volume.hostPath;
    if (mount.subPath) {
      if (mount.subPath.split('/').includes('..') || isAbsolute(mount.subPath)) throw new VolumeError(mount.name, `invalid subPath "${mount.subPath}"`);
      host = join(volume.hostPath, mount.subPath);
      // A subPath that does not exist yet is created as a directory, as the kubelet does.
      if (!(await lstat(host).catch(() => undefined))) {
        await mkdir(host, { recursive: true }).catch(async () => mkdir(dirname(host), { recursive: true }));
      }
    }
    const options: string[] = [];
    if (mount.readOnly || volume.readOnly) options.push('ro');
    if (mount.mountPropagation === 'Bidirectional') options.push('rshared');
    else if (mount.mountPropagation === 'HostToContainer') options.push('rslave');
    binds.push(`${host}:${mount.mountPath}${options.length ? `:${options.join(',')}` : ''}`);
  }
  return binds;
}
