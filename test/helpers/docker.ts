// A real Docker engine for tests, and the images they run. No registry is reachable, so images
// are built locally: `docker import` of a root filesystem holding the static busybox and its
// applets. Both images are tagged with a hash of what went into them, so a run builds them once.
//
// Engine: the default one (/var/run/docker.sock) if it answers; otherwise, when `dockerd` is
// installed, the first test process that needs it starts one and the last one to release it
// stops it. Test files run in parallel processes, so the bookkeeping lives in a shared directory:
// `users/<pid>` per process holding the engine, `dockerd.pid` when a test started the engine.
// Whatever the tests create carries the label `skiff.test=1` (TEST_LABEL); the last user removes
// the test images, and `removeLabelled` removes a test's containers and networks.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

export const TEST_LABEL = 'skiff.test';
export const DOCKER_SOCKET = process.env['SKIFF_TEST_DOCKER_SOCKET'] ?? '/var/run/docker.sock';
const BUSYBOX = '/usr/bin/busybox';
const STATE_DIR = join(tmpdir(), 'skiff-test-docker');
const USERS_DIR = join(STATE_DIR, 'users');
const DOCKERD_PID = join(STATE_DIR, 'dockerd.pid');
const LOCK_DIR = join(STATE_DIR, 'lock');
/** Bump when the image layout changes, so old tags are not reused. */
const IMAGE_LAYOUT_VERSION = '1';

export interface TestDocker {
  docker: Docker;
  socketPath: string;
  /** busybox with every applet on PATH; default command `sh`. */
  busyboxImage: string;
  /** busybox whose entrypoint sleeps forever: the pod sandbox ("pause") image for tests. */
  pauseImage: string;
  /** Gives the engine back; the last process to do so removes the images and stops a dockerd it started. */
  release(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pingable(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** A cross-process mutex: mkdir is atomic. Stale locks (owner gone) are broken. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(STATE_DIR, { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(join(LOCK_DIR, 'owner'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(join(LOCK_DIR, 'owner'), 'utf8').catch(() => '0'));
      if (owner && !isAlive(owner)) await rm(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`test docker lock ${LOCK_DIR} held too long`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

async function liveUsers(): Promise<number[]> {
  const names = await readdir(USERS_DIR).catch(() => [] as string[]);
  const alive: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (pid && isAlive(pid)) alive.push(pid);
    else await rm(join(USERS_DIR, name), { force: true });
  }
  return alive;
}

function dockerdBinary(): string | undefined {
  for (const path of ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd']) if (existsSync(path)) return path;
  return undefined;
}

async function startDockerd(docker: Docker): Promise<void> {
  const binary = dockerdBinary();
  if (!binary) throw new Error(`no Docker engine answers on ${DOCKER_SOCKET} and dockerd is not installed`);
  const log = openSync(join(STATE_DIR, 'dockerd.log'), 'a');
  const child = spawn(binary, [], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  if (!child.pid) throw new Error('could not start dockerd');
  await writeFile(DOCKERD_PID, String(child.pid));
  const deadline = Date.now() + 60_000;
  while (!(await pingable(docker))) {
    if (!isAlive(child.pid)) throw new Error(`dockerd exited at start; see ${join(STATE_DIR, 'dockerd.log')}`);
    if (Date.now() > deadline) throw new Error('dockerd did not answer within 60 s');
    await sleep(200);
  }
}

async function stopDockerdWeStarted(): Promise<void> {
  const pid = Number(await readFile(DOCKERD_PID, 'utf8').catch(() => '0'));
  if (!pid) return;
  if (isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  }
  await rm(DOCKERD_PID, { force: true });
}

async function busyboxHash(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(IMAGE_LAYOUT_VERSION);
  hash.update(await readFile(BUSYBOX));
  return hash.digest('hex').slice(0, 12);
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** A root filesystem: /bin/busybox, a link per applet, /etc/passwd and /etc/group, /tmp. */
async function buildRootfs(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'skiff-test-rootfs-'));
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  const list = await new Promise<string>((resolve, reject) => {
    const child = spawn(BUSYBOX, ['--list'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  for (const applet of list.split('\n').map((s) => s.trim())) {
    if (!applet || applet === 'busybox' || applet.includes('/')) continue;
    await symlink('busybox', join(root, 'bin', applet));
  }
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return root;
}

async function importRootfs(docker: Docker, root: string, repo: string, tag: string, changes: string[]): Promise<void> {
  const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stream = await docker.importImage(tar.stdout, { repo, tag, changes: [`LABEL ${TEST_LABEL}=1`, 'ENV PATH=/bin', ...changes] } as object);
  const output = await new Promise<{ error?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))),
  );
  const failed = output.find((o) => o.error);
  if (failed) throw new Error(`docker import ${repo}:${tag}: ${failed.error}`);
}

async function ensureImages(docker: Docker): Promise<{ busyboxImage: string; pauseImage: string }> {
  const tag = await busyboxHash();
  const busyboxImage = `skiff-test/busybox:${tag}`;
  const pauseImage = `skiff-test/pause:${tag}`;
  if ((await imageExists(docker, busyboxImage)) && (await imageExists(docker, pauseImage))) return { busyboxImage, pauseImage };
  const root = await buildRootfs();
  try {
    await importRootfs(docker, root, 'skiff-test/busybox', tag, ['CMD ["sh"]']);
    await importRootfs(docker, root, 'skiff-test/pause', tag, ['ENTRYPOINT ["/bin/sleep", "2147483647"]']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return { busyboxImage, pauseImage };
}

/** The engine and the test images, starting dockerd when none answers. */
export async function acquireTestDocker(): Promise<TestDocker> {
  const docker = new Docker({ socketPath: DOCKER_SOCKET });
  const images = await withLock(async () => {
    await mkdir(USERS_DIR, { recursive: true });
    if (!(await pingable(docker))) await startDockerd(docker);
    await writeFile(join(USERS_DIR, String(process.pid)), '');
    return ensureImages(docker);
  });
  let released = false;
  return {
    docker,
    socketPath: DOCKER_SOCKET,
    ...images,
    async release() {
      if (released) return;
      released = true;
      await withLock(async () => {
        await rm(join(USERS_DIR, String(process.pid)), { force: true });
        if ((await liveUsers()).length > 0) return;
        await removeLabelled(docker, `${TEST_LABEL}=1`);
        const images = await docker.listImages({ filters: { label: [`${TEST_LABEL}=1`] } }).catch(() => []);
        for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
        await stopDockerdWeStarted();
        await rmdir(USERS_DIR).catch(() => undefined);
      });
    },
  };
}

/**
 * Removes the containers (forcibly) and networks that carry `label` (`key=value` or `key`).
 * A few at a time: Docker 20.10 can lose count of a network's endpoints when dozens of its
 * containers are removed at once, and then refuses to remove the network.
 */
export async function removeLabelled(docker: Docker, label: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } }).catch(() => []);
  const queue = [...containers];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const networks = await docker.listNetworks({ filters: { label: [label] } }).catch(() => []);
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}
