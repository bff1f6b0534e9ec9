// Projected files (ConfigMap, Secret, downward API volumes) written so that a container never
// sees a half-updated set, the way the kubelet's AtomicWriter does: the files live in a fresh
// hidden directory, `..data` is a symlink to it swapped in with one rename, and each visible
// name is a symlink through `..data`. A container that bind-mounted the volume directory sees
// the new contents at once.

import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';

export interface ProjectedFile {
  /** Relative path inside the volume. */
  path: string;
  data: Buffer;
  mode: number;
}

const DATA_LINK = '..data';

function checkPath(path: string): string {
  const clean = normalize(path);
  if (!clean || clean.startsWith('..') || clean.startsWith(sep) || clean.split(sep).includes('..')) {
    throw new Error(`invalid path "${path}": must be relative and may not contain '..'`);
  }
  return clean;
}

function payloadHash(files: ProjectedFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(f.path).update('\0').update(String(f.mode)).update('\0').update(f.data).update('\0');
  }
  return hash.digest('hex');
}

const written = new Map<string, string>();

/** Makes `dir` hold exactly `files`; does nothing when it already does (as far as this process wrote it). */
export async function writeProjection(dir: string, files: ProjectedFile[]): Promise<void> {
  const hash = payloadHash(files);
  if (written.get(dir) === hash) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const previous = await readlink(join(dir, DATA_LINK)).catch(() => undefined);
  const version = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  const versionDir = join(dir, version);
  await mkdir(versionDir, { mode: 0o755 });
  const topLevel = new Set<string>();
  for (const file of files) {
    const path = checkPath(file.path);
    topLevel.add(path.split(sep)[0] ?? path);
    const target = join(versionDir, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, file.data);
    await chmod(target, file.mode);
  }
  const tmpLink = join(dir, `${DATA_LINK}_tmp`);
  await rm(tmpLink, { force: true });
  await symlink(version, tmpLink);
  await rename(tmpLink, join(dir, DATA_LINK));
  for (const name of topLevel) {
    const link = join(dir, name);
    const stat = await lstat(link).catch(() => undefined);
    if (stat?.isSymbolicLink()) continue;
    if (stat) await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_LINK, name), link);
  }
  for (const entry of await readdir(dir)) {
    if (entry === DATA_LINK || entry === version || topLevel.has(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  if (previous && previous !== version) await rm(join(dir, previous), { recursive: true, force: true });
  written.set(dir, hash);
}

/** Forgets what was written under `dir` (its pod is gone). */
export function forgetProjections(dir: string): void {
  for (const key of written.keys()) if (key === dir || key.startsWith(dir + sep)) written.delete(key);
}
