// The controllers' shared status write: only when it changed, once more after a conflict, never
// onto an object that is gone or was replaced. A fake client records what was written.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeClient } from '../../api/client.js';
import { conflict, notFound } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import { writeStatusIfChanged } from '../../controlplane/controllers/status-write.js';

type Counted = KubeObject & { status?: { replicas: number } };
const replicaSets = resourceFor('apps', 'replicasets');
const gr = { group: 'apps', resource: 'replicasets' };

function rs(uid: string, replicas: number, resourceVersion = '1'): Counted {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid, resourceVersion }, status: { replicas } };
}

/** A client whose updateStatus fails with `failures` in turn, and whose get returns `fresh`. */
function fakeClient(failures: Error[], fresh?: Counted): { client: KubeClient; written: Counted[]; reads: number } {
  const state = { written: [] as Counted[], reads: 0 };
  const client = {
    updateStatus: async (_r: unknown, _ns: unknown, obj: Counted) => {
      const failure = failures.shift();
      if (failure) throw failure;
      state.written.push(obj);
      return obj;
    },
    get: async () => {
      state.reads++;
      if (!fresh) throw notFound(gr, 'web');
      return fresh;
    },
  } as unknown as KubeClient;
  return { client, get written() { return state.written; }, get reads() { return state.reads; } };
}

const differs = (current: { replicas: number } | undefined, wanted: { replicas: number }) => current?.replicas !== wanted.replicas;

describe('writeStatusIfChanged', () => {
  test('an unchanged status is not written', async () => {
    const fake = fakeClient([]);
    await writeStatusIfChanged(fake.client, replicaSets, rs('u1', 3), { replicas: 3 }, differs);
    assert.equal(fake.written.length, 0);
  });

  test('a conflict re-reads the object and writes onto the fresh copy', async () => {
    const fake = fakeClient([conflict(gr, 'web')], rs('u1', 1, '7'));
    await writeStatusIfChanged(fake.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs);
    assert.equal(fake.reads, 1);
    assert.deepEqual(fake.written.map((o) => [o.metadata?.resourceVersion, o.status?.replicas]), [['7', 3]]);
  });

  test('a fresh copy that already has the status ends it without a write', async () => {
    const fake = fakeClient([conflict(gr, 'web')], rs('u1', 3, '7'));
    await writeStatusIfChanged(fake.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs);
    assert.equal(fake.written.length, 0);
  });

  test('a second conflict is thrown (the sync is retried), other errors at once', async () => {
    const twice = fakeClient([conflict(gr, 'web'), conflict(gr, 'web')], rs('u1', 1, '7'));
    await assert.rejects(writeStatusIfChanged(twice.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs), /modified/);
    const broken = fakeClient([new Error('connection reset')]);
    await assert.rejects(writeStatusIfChanged(broken.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs), /connection reset/);
    assert.equal(broken.reads, 0);
  });

  test('an object deleted, or replaced by another of the same name, is left alone', async () => {
    const gone = fakeClient([notFound(gr, 'web')]);
    await writeStatusIfChanged(gone.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs);
    assert.equal(gone.written.length, 0);
    const goneOnReread = fakeClient([conflict(gr, 'web')]);
    await writeStatusIfChanged(goneOnReread.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs);
    assert.equal(goneOnReread.reads, 1);
    assert.equal(goneOnReread.written.length, 0);
    const replaced = fakeClient([conflict(gr, 'web')], rs('u2', 0, '9'));
    await writeStatusIfChanged(replaced.client, replicaSets, rs('u1', 1), { replicas: 3 }, differs);
    assert.equal(replaced.written.length, 0);
  });
});
