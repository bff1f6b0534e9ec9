import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { ReferencedObjects } from '../../agent/pods/referenced-objects.js';
import { writeProjection } from '../../agent/volumes/atomic-writer.js';
import { containerBinds, memoryVolumeBytes, prepareVolumes, releaseVolumes, VolumeError } from '../../agent/volumes/volumes.js';

describe('volumes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-volumes-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const objects = (configMaps: Record<string, ConfigMap>, secrets: Record<string, Secret> = {}) =>
    ({ configMap: async (_: string, n: string) => configMaps[n], secret: async (_: string, n: string) => secrets[n] }) as unknown as ReferencedObjects;
  const ctx = (pod: Pod, objs = objects({})) => ({
    pod,
    podDir: join(dir, pod.metadata?.uid ?? 'x'),
    objects: objs,
    runtime: { podIp: '10.42.0.9', hostIp: '192.168.1.10' },
    allocatable: { cpuMilli: 1000, memoryBytes: 1024 ** 3, ephemeralStorageBytes: 1024 ** 3 },
  });

  test('projections are swapped atomically through ..data and stale files vanish', async () => {
    const target = join(dir, 'proj');
    await writeProjection(target, [
      { path: 'a', data: Buffer.from('1'), mode: 0o644 },
      { path: 'nested/b', data: Buffer.from('2'), mode: 0o600 },
    ]);
    assert.equal(await readFile(join(target, 'a'), 'utf8'), '1');
    assert.equal(await readlink(join(target, 'a')), join('..data', 'a'));
    assert.equal((await stat(join(target, 'nested', 'b'))).mode & 0o777, 0o600);
    const first = await readlink(join(target, '..data'));
    await writeProjection(target, [{ path: 'a', data: Buffer.from('changed'), mode: 0o644 }]);
    assert.equal(await readFile(join(target, 'a'), 'utf8'), 'changed');
    assert.notEqual(await readlink(join(target, '..data')), first);
    await assert.rejects(lstat(join(target, 'nested')));
    await assert.rejects(lstat(join(target, first)));
  });

  test('configMap, secret, downwardAPI and projected volumes become files; mounts become binds', async () => {
    const pod: Pod = {
      metadata: { name: 'web', namespace: 'shop', uid: 'uid-v1', labels: { app: 'web', tier: 'front' } },
      spec: {
        containers: [],
        volumes: [
          { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'k1', path: 'dir/one', mode: 0o600 }] } },
          { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
          { name: 'meta', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          { name: 'all', projected: { sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 'sec' } }] } },
          { name: 'scratch', emptyDir: {} },
          { name: 'host', hostPath: { path: join(dir, 'host-created'), type: 'DirectoryOrCreate' } },
        ],
      },
    };
    const volumes = await prepareVolumes(ctx(pod, objects({ cfg: { data: { k1: 'v1', k2: 'v2' } } }, { sec: { data: { token: Buffer.from('t0k').toString('base64') } } })));
    const cfg = volumes.get('cfg')!;
    assert.equal(cfg.readOnly, true);
    assert.equal(await readFile(join(cfg.hostPath, 'dir/one'), 'utf8'), 'v1');
    assert.equal((await stat(join(cfg.hostPath, 'dir/one'))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(volumes.get('sec')!.hostPath, 'token'), 'utf8'), 't0k');
    assert.equal((await stat(join(volumes.get('sec')!.hostPath, 'token'))).mode & 0o777, 0o400);
    assert.equal(await readFile(join(volumes.get('meta')!.hostPath, 'labels'), 'utf8'), 'app="web"\ntier="front"');
    assert.equal(await readFile(join(volumes.get('meta')!.hostPath, 'ns'), 'utf8'), 'shop');
    assert.equal(await readFile(join(volumes.get('all')!.hostPath, 'k2'), 'utf8'), 'v2');
    assert.equal(await readFile(join(volumes.get('all')!.hostPath, 'token'), 'utf8'), 't0k');
    assert.equal((await stat(volumes.get('scratch')!.hostPath)).mode & 0o777, 0o777);
    assert.ok((await stat(join(dir, 'host-created'))).isDirectory());
    const binds = await containerBinds(
      {
        name: 'main',
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/cfg' },
          { name: 'scratch', mountPath: '/work', subPath: 'sub' },
          { name: 'host', mountPath: '/host', readOnly: true },
        ],
      },
      volumes,
    );
    assert.deepEqual(binds, [`${cfg.hostPath}:/etc/cfg:ro`, `${volumes.get('scratch')!.hostPath}/sub:/work`, `${join(dir, 'host-created')}:/host:ro`]);
    assert.ok((await stat(`${volumes.get('scratch')!.hostPath}/sub`)).isDirectory());
  });

  test('failures name the volume and the cause', async () => {
    const failing = async (volume: any) => {
      try {
        await prepareVolumes(ctx({ metadata: { name: 'p', namespace: 'd', uid: 'uid-v2' }, spec: { containers: [], volumes: [volume] } }));
        return undefined;
      } catch (err) {
        assert.ok(err instanceof VolumeError);
        return err.message;
      }
    };
    assert.equal(await failing({ name: 'c', configMap: { name: 'missing' } }), 'MountVolume.SetUp failed for volume "c" : configmap "missing" not found');
    assert.equal(await failing({ name: 'c', configMap: { name: 'missing', optional: true } }), undefined);
    assert.match((await failing({ name: 'n', nfs: { server: 's', path: '/' } }))!, /volume source nfs is not supported by Skiff's agent/);
    assert.match((await failing({ name: 'h', hostPath: { path: join(dir, 'absent'), type: 'Directory' } }))!, /is not a directory/);
    assert.match((await failing({ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }))!, /projected source serviceAccountToken is not supported/);
    assert.match((await failing({ name: 'hp', emptyDir: { medium: 'HugePages' } }))!, /emptyDir medium "HugePages" is not supported by Skiff's agent/);
  });

  test('a memory-backed emptyDir is a tmpfs of the kubelet\'s size, mounted once, unmounted on release', async () => {
    const pod: Pod = {
      metadata: { name: 'mem', namespace: 'd', uid: 'uid-mem' },
      spec: {
        containers: [
          { name: 'a', resources: { limits: { memory: '64Mi' } } },
          { name: 'b', resources: { limits: { memory: '32Mi' } } },
        ],
        volumes: [
          { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
          { name: 'cache', emptyDir: { medium: 'Memory' } },
        ],
      },
    };
    const mountOf = async (path: string) =>
      (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .map((line) => line.split(' '))
        .find((fields) => fields[4] === path);
    const sizeKiB = (fields: string[] | undefined) => Number(/size=(\d+)k/.exec(fields?.at(-1) ?? '')?.[1]);
    const context = ctx(pod);
    const volumes = await prepareVolumes(context);
    const shm = volumes.get('shm')!.hostPath;
    const cache = volumes.get('cache')!.hostPath;
    assert.equal((await mountOf(shm))?.at(-3), 'tmpfs');
    assert.equal(sizeKiB(await mountOf(shm)), 8 * 1024); // the sizeLimit
    assert.equal(sizeKiB(await mountOf(cache)), 96 * 1024); // every container has a limit: their sum
    assert.equal((await stat(shm)).mode & 0o777, 0o777);
    // A second sync (or an agent restarted over a running pod) does not stack another mount.
    await writeFile(join(shm, 'kept'), 'x');
    await prepareVolumes(context);
    assert.equal(await readFile(join(shm, 'kept'), 'utf8'), 'x');
    assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4] === shm).length, 1);
    await releaseVolumes(context.podDir);
    assert.equal(await mountOf(shm), undefined);
    assert.equal(await mountOf(cache), undefined);
    await rm(context.podDir, { recursive: true });
  });

  test('memory-backed emptyDir size: node allocatable unless limits or sizeLimit are smaller', () => {
    const gib = 1024 ** 3;
    const pod = (limits: (string | undefined)[]): Pod => ({
      spec: { containers: limits.map((memory, i) => ({ name: `c${i}`, resources: memory ? { limits: { memory } } : {} })) },
    });
    assert.equal(memoryVolumeBytes(pod(['1Gi', undefined]), {}, 4 * gib), 4 * gib); // one container unlimited
    assert.equal(memoryVolumeBytes(pod(['1Gi', '512Mi']), {}, 4 * gib), 1.5 * gib);
    assert.equal(memoryVolumeBytes(pod(['1Gi']), { sizeLimit: '100Mi' }, 4 * gib), 100 * 1024 ** 2);
    assert.equal(memoryVolumeBytes(pod(['8Gi']), {}, 2 * gib), 2 * gib);
  });
});
