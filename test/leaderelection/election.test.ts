// Leader election between controller-managers over one API server (one store): exactly one acts,
// a stopped leader hands over at once, a silent one within the lease duration, and a leader that
// believes it still leads after losing the Lease (a paused process) finds its writes refused.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import { pino } from 'pino';
import type { KubeClient } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import { resourceFor } from '../../api/resources.js';
import type { Controller } from '../../controlplane/controllers/context.js';
import { CONTROLLER_MANAGER_LEASE, startControllerManager } from '../../controlplane/controllers/manager.js';
import type { ControllerManager } from '../../controlplane/controllers/manager.js';
import { nodeIpamController } from '../../controlplane/controllers/nodeipam/controller.js';
import { DEFAULT_LEADER_ELECTION } from '../../controlplane/leaderelection/config.js';
import type { LeaderElectionConfig } from '../../controlplane/leaderelection/config.js';
import { ApiLeaseLock } from '../../controlplane/leaderelection/lease-lock.js';
import type { LeaseLock } from '../../controlplane/leaderelection/lease-lock.js';
import { eventually, startTestCluster } from '../helpers/cluster.js';
import type { TestCluster } from '../helpers/cluster.js';
import { adminClient, TEST_ELECTION } from '../scheduler/controlled-cluster.js';
import { kubeMicroTime } from '../../api/time.js';

const nodes = resourceFor('', 'nodes');
const leases = resourceFor('coordination.k8s.io', 'leases');
const configmaps = resourceFor('', 'configmaps');
const silent = pino({ level: 'silent' });

/** A client that counts the writes going through it (every method funnels into `request`). */
function counting(client: KubeClient, counter: { writes: number }): KubeClient {
  const wrapped = Object.create(client) as KubeClient;
  wrapped.request = (method, path, options) => {
    if (method !== 'GET') counter.writes++;
    return client.request(method, path, options);
  };
  return wrapped;
}

/** nodeipam, counting the writes it makes. */
function countedIpam(counter: { writes: number }): Controller {
  const inner = nodeIpamController({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24 });
  return { name: inner.name, run: (ctx, signal) => inner.run({ ...ctx, client: counting(ctx.client, counter) }, signal) };
}

/** A Lease lock whose writes can be cut off, as a network partition (or a paused process) would. */
function cuttableLock(inner: LeaseLock): LeaseLock & { cut: boolean } {
  const lock = {
    cut: false,
    namespace: inner.namespace,
    name: inner.name,
    get: (signal?: AbortSignal) => (lock.cut ? Promise.reject(new Error('partitioned')) : inner.get(signal)),
    create: (...args: Parameters<LeaseLock['create']>) => (lock.cut ? Promise.reject(new Error('partitioned')) : inner.create(...args)),
    update: (...args: Parameters<LeaseLock['update']>) => (lock.cut ? Promise.reject(new Error('partitioned')) : inner.update(...args)),
  };
  return lock;
}

async function createNode(client: KubeClient, name: string): Promise<void> {
  await client.create<KubeObject>(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
}

async function holder(client: KubeClient): Promise<string> {
  const lease = await client.get<Lease & KubeObject>(leases, CONTROLLER_MANAGER_LEASE.namespace, CONTROLLER_MANAGER_LEASE.name);
  return lease.spec?.holderIdentity ?? '';
}

/** Polls both managers every few ms until `until` holds; fails if both ever lead at once. */
async function watchLeadership(a: ControllerManager, b: ControllerManager, until: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!until()) {
    assert.ok(!(a.elector.isLeader && b.elector.isLeader), 'two leaders at once');
    if (Date.now() > deadline) throw new Error('leadership did not move in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A Lease lock that, when asked, makes the next write but keeps its answer until the caller gives
 * up: a renewal that a stop aborts after the server has made it.
 */
function answerLosingLock(inner: LeaseLock): LeaseLock & { loseNextAnswer(): Promise<void> } {
  let lose: (() => void) | undefined;
  return {
    namespace: inner.namespace,
    name: inner.name,
    get: (signal?: AbortSignal) => inner.get(signal),
    create: (...args: Parameters<LeaseLock['create']>) => inner.create(...args),
    async update(current, record, signal) {
      const written = await inner.update(current, record);
      if (!lose) return written;
      lose();
      lose = undefined;
      return new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    },
    loseNextAnswer: () => new Promise<void>((resolve) => (lose = resolve)),
  };
}

describe('leader election', () => {
  let c: TestCluster;
  let client: KubeClient;
  const managers: ControllerManager[] = [];

  before(async () => {
    c = await startTestCluster();
    client = adminClient(c);
  });
  after(async () => {
    await client.close();
    await c.close();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
    await client.delete(leases, CONTROLLER_MANAGER_LEASE.namespace, CONTROLLER_MANAGER_LEASE.name).catch(() => undefined);
    for (const n of (await client.list(nodes)).items) await client.delete(nodes, undefined, n.metadata!.name!);
  });

  const start = (identity: string, controllers: Controller[], extra: { election?: LeaderElectionConfig; lock?: LeaseLock; now?: () => number } = {}) => {
    const m = startControllerManager({ client, controllers, logger: silent, identity, election: extra.election ?? TEST_ELECTION, lock: extra.lock, now: extra.now });
    managers.push(m);
    return m;
  };

  test('a leader stopped while a renewal is in flight still releases the Lease', async (t) => {
    const lockA = answerLosingLock(new ApiLeaseLock(client, CONTROLLER_MANAGER_LEASE.namespace, CONTROLLER_MANAGER_LEASE.name));
    const a = start('in-flight-a', [], { lock: lockA });
    await a.whenLeading();
    const b = start('in-flight-b', []);
    await lockA.loseNextAnswer(); // a renewal was written; its answer never reaches a
    const stoppedAt = Date.now();
    await a.stop();
    await b.whenLeading();
    const handover = Date.now() - stoppedAt;
    t.diagnostic(`handover after a stop during a renewal: ${handover} ms`);
    // Without the release, b would wait for the Lease to expire (its duration, 3 s).
    assert.ok(handover < TEST_ELECTION.leaseDurationMs, `handover took ${handover} ms`);
  });

  test('exactly one of two managers acts; a stopped leader hands over at once', async (t) => {
    const writesA = { writes: 0 };
    const writesB = { writes: 0 };
    const a = start('manager-a', [countedIpam(writesA)]);
    const b = start('manager-b', [countedIpam(writesB)]);
    await Promise.race([a.whenLeading(), b.whenLeading()]);
    const [leader, follower, leaderWrites, followerWrites] = a.isLeader() ? [a, b, writesA, writesB] : [b, a, writesB, writesA];
    assert.equal(await holder(client), leader.identity);
    const kubectl = await c.kubectl(['get', 'leases', '-n', 'kube-system']);
    assert.match(kubectl.stdout, new RegExp(`skiff-controller-manager\\s+${leader.identity}`));

    // A healthy leader keeps leading: many renewals pass without a change of term.
    for (let waited = 0; waited < 15 * TEST_ELECTION.retryPeriodMs; waited += 20) {
      assert.ok(leader.isLeader() && !follower.isLeader(), `leadership changed after ${waited} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 10; i++) await createNode(client, `node-${i}`);
    const cidrs = await eventually(async () => {
      const list = await client.list<Node & KubeObject>(nodes);
      const assigned = list.items.map((n) => n.spec?.podCIDR).filter(Boolean);
      return assigned.length === 10 ? assigned : undefined;
    }, 10_000, 'every node to get a pod CIDR');
    assert.equal(new Set(cidrs).size, 10);
    assert.equal(leaderWrites.writes, 10);
    assert.equal(followerWrites.writes, 0);
    assert.equal(follower.isLeader(), false);

    // A clean stop releases the Lease: the follower need not wait for it to expire.
    const stoppedAt = Date.now();
    await leader.stop();
    await follower.whenLeading();
    const handover = Date.now() - stoppedAt;
    t.diagnostic(`handover after a clean stop: ${handover} ms`);
    assert.ok(handover < TEST_ELECTION.leaseDurationMs, `handover took ${handover} ms`);
    assert.equal(await holder(client), follower.identity);
    await createNode(client, 'node-late');
    await eventually(async () => (await client.get<Node & KubeObject>(nodes, undefined, 'node-late')).spec?.podCIDR, 10_000, 'the new leader to assign');
    assert.equal(followerWrites.writes, 1);
    const lease = await client.get<Lease & KubeObject>(leases, 'kube-system', 'skiff-controller-manager');
    assert.equal(lease.spec?.leaseTransitions, 1);
  });

  test('with the default timings a leader that goes silent is replaced within 2 s, never overlapping', async (t) => {
    const lockA = cuttableLock(new ApiLeaseLock(client, CONTROLLER_MANAGER_LEASE.namespace, CONTROLLER_MANAGER_LEASE.name));
    const a = start('silent-a', [], { election: DEFAULT_LEADER_ELECTION, lock: lockA });
    await a.whenLeading();
    const b = start('standby-b', [], { election: DEFAULT_LEADER_ELECTION });
    await new Promise((r) => setTimeout(r, 300)); // b has seen a's renewals
    assert.equal(b.elector.isLeader, false);
    const cutAt = Date.now();
    lockA.cut = true; // a can no longer reach the Lease, as if it had crashed
    let deposedAt = 0;
    await watchLeadership(a, b, () => {
      if (!a.elector.isLeader && !deposedAt) deposedAt = Date.now();
      return b.elector.isLeader;
    }, 5000);
    const failover = Date.now() - cutAt;
    t.diagnostic(`leader silent → stopped acting after ${deposedAt - cutAt} ms, replaced after ${failover} ms`);
    assert.ok(failover <= 2000, `failover took ${failover} ms`);
    // a stopped acting before its Lease could be taken (watchLeadership saw no overlap either).
    assert.ok(deposedAt - cutAt < DEFAULT_LEADER_ELECTION.leaseDurationMs, `a kept leading for ${deposedAt - cutAt} ms`);
    assert.equal(await holder(client), b.identity);
  });

  test('a holder whose Lease states a longer duration than the candidate\'s own keeps it for that long', async () => {
    // Someone else holds the Lease for 30 s (another server with longer timings, or a client
    // holding it on purpose) and has not renewed it since.
    await client.create<Lease & KubeObject>(leases, CONTROLLER_MANAGER_LEASE.namespace, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: CONTROLLER_MANAGER_LEASE.name, namespace: CONTROLLER_MANAGER_LEASE.namespace },
      spec: { holderIdentity: 'long-holder', leaseDurationSeconds: 30, renewTime: kubeMicroTime(), acquireTime: kubeMicroTime() },
    });
    // The candidate's clock runs as the test says; its own lease duration is 3 s.
    let clock = performance.now();
    const candidate = start('short-candidate', [], { now: () => clock });
    await eventually(() => (candidate.elector.observedLeader === 'long-holder' ? true : undefined), 10_000, 'the candidate to see the Lease');
    clock += 20_000; // far past its own 3 s, within the holder's 30 s
    await new Promise((r) => setTimeout(r, 5 * TEST_ELECTION.retryPeriodMs));
    assert.equal(candidate.elector.isLeader, false, 'took the Lease before the duration it states');
    assert.equal(await holder(client), 'long-holder');
    clock += 11_000; // past the holder's 30 s
    await candidate.whenLeading();
    assert.equal(await holder(client), 'short-candidate');
  });

  test("a deposed leader that still believes it leads cannot write: the API refuses its fenced writes", async () => {
    // A misbehaving controller that ignores its stop signal and keeps writing.
    const outcomes: { at: number; ok: boolean; err?: unknown }[] = [];
    let stopWriting = false;
    const stubborn: Controller = {
      name: 'stubborn',
      run: async (ctx) => {
        for (let i = 0; !stopWriting; i++) {
          try {
            await ctx.client.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `from-a-${i}` } });
            outcomes.push({ at: Date.now(), ok: true });
          } catch (err) {
            outcomes.push({ at: Date.now(), ok: false, err });
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
    // Process a is "paused": its clock stands still (so it never sees its renew deadline pass)
    // and its Lease renewals do not get through.
    const lockA = cuttableLock(new ApiLeaseLock(client, CONTROLLER_MANAGER_LEASE.namespace, CONTROLLER_MANAGER_LEASE.name));
    const frozen = performance.now();
    const a = start('paused-a', [stubborn], { lock: lockA, now: () => frozen });
    await a.whenLeading();
    await eventually(() => (outcomes.some((o) => o.ok) ? true : undefined), 5000, 'a to write while leading');
    lockA.cut = true;
    const b = start('fresh-b', []);
    await b.whenLeading();
    const tookOver = Date.now();
    await eventually(() => (outcomes.filter((o) => o.at > tookOver).length > 3 ? true : undefined), 10_000, 'a to try several writes after the takeover');
    stopWriting = true;
    assert.equal(a.elector.isLeader, true, 'a still believes it leads');
    const late = outcomes.filter((o) => o.at > tookOver);
    assert.ok(late.length > 3);
    assert.ok(late.every((o) => !o.ok), 'a write of the deposed leader succeeded');
    const refusal = late[0]!.err;
    assert.ok(refusal instanceof StatusError && refusal.code === 409, String(refusal));
    assert.match(refusal.message, /fenced by lease kube-system\/skiff-controller-manager, held by "fresh-b" and not by "paused-a"/);
    const written = (await client.list(configmaps, 'default')).items.filter((cm) => cm.metadata?.name?.startsWith('from-a-'));
    assert.equal(written.length, outcomes.filter((o) => o.ok).length);
    for (const cm of written) await client.delete(configmaps, 'default', cm.metadata!.name!);
  });
});
