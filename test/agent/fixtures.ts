// Runtime containers as the inventory reports them, for tests of the pure parts of the agent.

import type { RuntimeContainer } from '../../agent/runtime/inventory.js';
import type { ContainerIdentity } from '../../agent/runtime/labels.js';

let counter = 0;

export function runtimeContainer(identity: Partial<ContainerIdentity> & { containerName: string }, state: Partial<RuntimeContainer> = {}): RuntimeContainer {
  counter++;
  const id = `${counter.toString(16).padStart(8, '0')}${'0'.repeat(56)}`;
  return {
    id,
    name: `k8s_${identity.containerName}_${counter}`,
    identity: {
      node: 'node-a',
      kind: 'app',
      podUid: 'uid-1',
      podName: 'web',
      podNamespace: 'default',
      restartCount: 0,
      specHash: '',
      sandboxAttempt: 0,
      terminationGracePeriodSeconds: 30,
      ...identity,
    },
    image: 'busybox',
    imageId: 'sha256:abc',
    createdAt: new Date(Date.now() - 60_000 + counter).toISOString(),
    state: 'running',
    startedAt: '2026-01-01T10:00:00.123456789Z',
    exitCode: 0,
    oomKilled: false,
    error: '',
    ...state,
  };
}

export function sandbox(state: Partial<RuntimeContainer> = {}, attempt = 0): RuntimeContainer {
  return runtimeContainer({ containerName: 'POD', kind: 'sandbox', sandboxAttempt: attempt }, { ip: '10.42.0.5', ...state });
}

export function exited(exitCode: number, finishedAt = new Date().toISOString(), extra: Partial<RuntimeContainer> = {}): Partial<RuntimeContainer> {
  return { state: 'exited', exitCode, finishedAt, ...extra };
}
