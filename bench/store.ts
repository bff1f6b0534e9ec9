// How fast is the embedded store? Run with `npx tsx bench/store.ts` (or node on the compiled
// dist/bench/store.js). Prints creates/s (one caller, then 16 concurrent callers), get latency
// percentiles and the time to list 10,000 objects, with and without the JSON work an API server
// adds. The anchors measured in the same run: the same store with synchronous=FULL, and bare
// better-sqlite3 inserting one row per transaction with the same pragmas (the floor the store's
// log + index + events sit on).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore, type SqliteStoreOptions } from '../controlplane/store/sqlite.js';

const CREATES = 5_000;
const CALLERS = 16;
const GETS = 20_000;
const LIST_SIZE = 10_000;
const LIST_RUNS = 7;

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-'));
let dbCounter = 0;
const freshPath = () => join(dir, `bench-${dbCounter++}.db`);

/** A pod about the size kubectl and controllers write (~1.3 KB of JSON). */
function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `0b6c4f2e-5a4d-4c1e-9d8a-${name.padStart(12, '0').slice(-12)}`,
      labels: { app: 'web', 'pod-template-hash': '7d4b9c8f6d', tier: 'frontend' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c8f6d', uid: 'a1b2c3d4', controller: true, blockOwnerDeletion: true }],
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.local/web:1.2.3',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
          env: [{ name: 'MODE', value: 'production' }, { name: 'LOG_LEVEL', value: 'info' }],
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      nodeName: 'node-1',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      podIP: '10.42.0.17',
      hostIP: '192.168.1.10',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:05Z' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' },
      ],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'registry.local/web:1.2.3', state: { running: { startedAt: '2025-01-01T00:00:03Z' } } }],
    },
  });
}

const podKey = (i: number) => `/registry/pods/default/web-${String(i).padStart(6, '0')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

async function createsPerSecond(options: SqliteStoreOptions, callers: number): Promise<number> {
  const store = SqliteStore.open(freshPath(), options);
  const perCaller = Math.ceil(CREATES / callers);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < perCaller; i++) {
        const n = c * perCaller + i;
        await store.create(podKey(n), podJson(`web-${n}`));
        // Concurrent callers are separate requests: let the others in between writes.
        if (callers > 1) await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  return (perCaller * callers) / seconds;
}

function bareInsertsPerSecond(synchronous: 'NORMAL' | 'FULL'): number {
  const db = new Database(freshPath());
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (key, value) VALUES (?, ?)');
  const start = performance.now();
  for (let i = 0; i < CREATES; i++) insert.run(podKey(i), podJson(`web-${i}`));
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return CREATES / seconds;
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : 0 });

  rows.push(['bare better-sqlite3 insert, 1 row/txn, NORMAL (anchor)', `${fmt(bareInsertsPerSecond('NORMAL'))} /s`]);
  rows.push(['store create, 1 caller, NORMAL', `${fmt(await createsPerSecond({}, 1))} /s`]);
  rows.push([`store create, ${CALLERS} callers, NORMAL`, `${fmt(await createsPerSecond({}, CALLERS))} /s`]);
  rows.push(['bare better-sqlite3 insert, 1 row/txn, FULL (anchor)', `${fmt(bareInsertsPerSecond('FULL'))} /s`]);
  rows.push(['store create, 1 caller, FULL', `${fmt(await createsPerSecond({ synchronous: 'FULL' }, 1))} /s`]);
  rows.push([`store create, ${CALLERS} callers, FULL`, `${fmt(await createsPerSecond({ synchronous: 'FULL' }, CALLERS))} /s`]);

  // Reads on a store holding LIST_SIZE pods, each updated once (so the log has history).
  const store = SqliteStore.open(freshPath());
  for (let i = 0; i < LIST_SIZE; i++) await store.create(podKey(i), podJson(`web-${i}`));
  const listRevision = await store.currentRevision();
  for (let i = 0; i < LIST_SIZE; i++) {
    const kv = await store.get(podKey(i));
    if (kv) await store.update(kv.key, podJson(`web-${i}`).replace('"Running"', '"Succeeded"'), kv.modRevision);
  }

  const latencies: number[] = [];
  for (let i = 0; i < GETS; i++) {
    const key = podKey(Math.floor(Math.random() * LIST_SIZE));
    const start = performance.now();
    await store.get(key);
    latencies.push((performance.now() - start) * 1000);
  }
  latencies.sort((a, b) => a - b);
  rows.push([`get, current (${fmt(GETS)} calls)`, `p50 ${fmt(percentile(latencies, 50))} µs, p99 ${fmt(percentile(latencies, 99))} µs`]);

  const timeList = async (revision: number | undefined, withJson: boolean) => {
    const times: number[] = [];
    for (let run = 0; run < LIST_RUNS; run++) {
      const start = performance.now();
      const result = await store.list({ prefix: '/registry/pods/', revision });
      if (result.items.length !== LIST_SIZE) throw new Error(`listed ${result.items.length} items`);
      if (withJson) {
        // What the API server adds: parse each stored object, build the List, serialise it.
        const items = result.items.map((kv) => {
          const object = JSON.parse(kv.value) as { metadata: { resourceVersion?: string } };
          object.metadata.resourceVersion = String(kv.modRevision);
          return object;
        });
        JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(result.revision) }, items });
      }
      times.push(performance.now() - start);
    }
    return median(times);
  };
  rows.push([`list ${fmt(LIST_SIZE)} keys, current revision`, `${fmt(await timeList(undefined, false))} ms`]);
  rows.push([`list ${fmt(LIST_SIZE)} keys, current revision + JSON parse/stringify`, `${fmt(await timeList(undefined, true))} ms`]);
  rows.push([`list ${fmt(LIST_SIZE)} keys, past revision (from the log)`, `${fmt(await timeList(listRevision, false))} ms`]);
  rows.push([`list ${fmt(LIST_SIZE)} keys, page of 500, past revision`, `${fmt(await (async () => {
    const times: number[] = [];
    for (let run = 0; run < LIST_RUNS; run++) {
      const start = performance.now();
      await store.list({ prefix: '/registry/pods/', revision: listRevision, limit: 500, startKey: podKey(5000) });
      times.push(performance.now() - start);
    }
    return median(times);
  })())} ms`]);
  await store.close();

  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`SqliteStore benchmark (node ${process.version}, pod values of ${podJson('web-000000').length} bytes)`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
