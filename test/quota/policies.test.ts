// The namespaces' policies that admission reads: kept from the registries' watch, and when that
// watch restarts, the old picture stays until the new initial list is complete (a quota must
// not stop limiting while its watch recovers).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { KubeObject } from '../../api/objects.js';
import { NamespacePolicies } from '../../controlplane/apiserver/admission/policies.js';
import type { Registry, RegistryWatchEvent } from '../../controlplane/apiserver/registry/registry.js';

function quota(name: string, rv: number): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'ns', resourceVersion: String(rv) }, spec: { hard: { pods: '2' } } };
}

/** A registry whose watch runs `sessions` in turn (the last one for every later call). */
function scriptedRegistry(sessions: ((signal: AbortSignal) => AsyncGenerator<RegistryWatchEvent>)[]): Registry {
  let call = 0;
  return {
    resource: { plural: 'resourcequotas' },
    watch: (_ns: unknown, _query: unknown, signal: AbortSignal) => sessions[Math.min(call++, sessions.length - 1)]!(signal),
  } as unknown as Registry;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function until(signal: AbortSignal, ...gates: Promise<void>[]): Promise<unknown> {
  return Promise.race([...gates, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
}

test('a restarted watch keeps the old policies until its new initial list is complete', async () => {
  const failFirst = gate();
  const listSecond = gate();
  const quotas = scriptedRegistry([
    async function* (signal) {
      yield { type: 'ADDED', object: quota('q', 5), rv: 5 };
      yield { type: 'INITIAL-EVENTS-END', rv: 5 };
      await until(signal, failFirst.promise);
      if (!signal.aborted) throw new Error('watch cache restarted');
    },
    // The new list takes its time: the test looks before it arrives.
    async function* (signal) {
      await until(signal, listSecond.promise);
      if (signal.aborted) return;
      yield { type: 'ADDED', object: quota('q', 5), rv: 5 };
      yield { type: 'INITIAL-EVENTS-END', rv: 5 };
      await until(signal);
    },
  ]);
  const limitRanges = scriptedRegistry([
    async function* (signal) {
      yield { type: 'INITIAL-EVENTS-END', rv: 1 };
      await until(signal);
    },
  ]);
  const policies = new NamespacePolicies(limitRanges, quotas, pino({ level: 'silent' }));
  await policies.start();
  assert.deepEqual(policies.quotas.list('ns').map((q) => q.metadata?.name), ['q']);

  failFirst.open(); // the first watch fails; the index lists again
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(policies.quotas.list('ns').map((q) => q.metadata?.name), ['q'], 'still limiting while the new list is incomplete');
  listSecond.open();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(policies.quotas.list('ns').map((q) => q.metadata?.name), ['q']);
  await policies.stop();
});
