// The next step for a pod, computed from its spec and its containers as Docker shows them, in
// the manner of the kubelet's computePodActions (pkg/kubelet/kuberuntime/kuberuntime_manager.go):
// create a sandbox when there is none running (re-running the init containers in it); start the
// next init container, in order, each one after the previous succeeded; then start every app
// container that has never run or whose restart policy says to restart it, unless it is backing
// off (CrashLoopBackOff); kill containers whose spec changed, that failed their liveness or
// startup probe, or that run in a sandbox that is no longer the pod's. Pure: the executor (the
// pod worker) carries the actions out and asks again.

import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import { isActive } from '../runtime/inventory.js';
import { exitCodeOf, hasEnded, isPendingStart } from '../status/podstatus.js';
import type { BackOff } from './backoff.js';

export type RunnableKind = 'init' | 'app';

export interface ContainerStart {
  container: Container;
  kind: RunnableKind;
  restartCount: number;
  /** Record a restart in the back-off (the previous instance failed at this time). */
  backOffEventMs?: number;
}

export interface ContainerKill {
  instance: RuntimeContainer;
  message: string;
}

export interface BackingOff {
  container: Container;
  /** Milliseconds until the restart may happen. */
  remainingMs: number;
  delayMs: number;
}

export interface PodActions {
  createSandbox?: { attempt: number; replacing?: RuntimeContainer };
  start: ContainerStart[];
  /** Containers created but never started (the agent stopped in between): start them now. */
  startCreated: RuntimeContainer[];
  kill: ContainerKill[];
  backingOff: BackingOff[];
}

export interface PlanInput {
  pod: Pod;
  /** Every agent container of the pod (sandboxes included). */
  containers: RuntimeContainer[];
  specHash(container: Container): string;
  /** Why a running instance must be killed by its probes, if it must. */
  probeKillReason(containerId: string): string | undefined;
  restartBackOff: BackOff;
  backOffKey(container: Container): string;
}

/** Instances newest first: by restart count, then creation time. */
export function newestFirst(instances: RuntimeContainer[]): RuntimeContainer[] {
  return [...instances].sort((a, b) => b.identity.restartCount - a.identity.restartCount || Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

export function latestSandbox(containers: RuntimeContainer[]): RuntimeContainer | undefined {
  return containers
    .filter((c) => c.identity.kind === 'sandbox')
    .sort((a, b) => b.identity.sandboxAttempt - a.identity.sandboxAttempt || Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
}

export function instancesOf(containers: RuntimeContainer[], kind: RunnableKind, name: string): RuntimeContainer[] {
  return newestFirst(containers.filter((c) => c.identity.kind === kind && c.identity.containerName === name));
}

/** Whether the restart policy restarts a container that ended with this exit code. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

function endedAtMs(c: RuntimeContainer): number {
  return Date.parse(c.finishedAt ?? c.createdAt);
}

export function computePodActions(input: PlanInput): PodActions {
  const { pod, containers } = input;
  const actions: PodActions = { start: [], startCreated: [], kill: [], backingOff: [] };
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const sandbox = latestSandbox(containers);
  const runnable = containers.filter((c) => c.identity.kind !== 'sandbox');

  if (!sandbox || !isActive(sandbox)) {
    const everRan = runnable.some((c) => c.identity.kind === 'app');
    // The kubelet does not re-create the sandbox of a Never pod whose containers already ran:
    // nothing of it may run again.
    if (sandbox && policy === 'Never' && everRan) {
      for (const c of runnable) if (isActive(c)) actions.kill.push({ instance: c, message: 'Pod sandbox is gone' });
      return actions;
    }
    for (const c of runnable) if (isActive(c)) actions.kill.push({ instance: c, message: 'Pod sandbox changed, it will be killed and re-created.' });
    actions.createSandbox = { attempt: sandbox ? sandbox.identity.sandboxAttempt + 1 : 0, replacing: sandbox };
    return actions;
  }

  // Containers left running in an older sandbox do not share the pod's network any more.
  for (const c of runnable) {
    if (isActive(c) && c.identity.sandboxId && c.identity.sandboxId !== sandbox.id) {
      actions.kill.push({ instance: c, message: 'Pod sandbox changed, it will be killed and re-created.' });
    }
  }
  for (const c of runnable) if (isPendingStart(c) && c.identity.sandboxId === sandbox.id) actions.startCreated.push(c);
  if (actions.kill.length || actions.startCreated.length) return actions;

  const restartOrBackOff = (container: Container, kind: RunnableKind, latest: RuntimeContainer): void => {
    const key = input.backOffKey(container);
    const ended = endedAtMs(latest);
    if (input.restartBackOff.inBackOffSince(key, ended)) {
      actions.backingOff.push({ container, remainingMs: input.restartBackOff.remainingSince(key, ended), delayMs: input.restartBackOff.delay(key) });
    } else {
      actions.start.push({ container, kind, restartCount: latest.identity.restartCount + 1, backOffEventMs: ended });
    }
  };

  // Init containers run in the current sandbox, one at a time, in order; they run again in a new sandbox.
  for (const container of pod.spec?.initContainers ?? []) {
    const sidecar = container.restartPolicy === 'Always';
    const all = instancesOf(runnable, 'init', container.name);
    const inSandbox = all.filter((c) => c.identity.sandboxId === sandbox.id);
    const latest = inSandbox[0];
    const newest = all[0];
    if (!latest) {
      actions.start.push({ container, kind: 'init', restartCount: newest ? newest.identity.restartCount + 1 : 0 });
      return actions;
    }
    if (isActive(latest)) {
      const why = input.probeKillReason(latest.id);
      if (sidecar && why) {
        actions.kill.push({ instance: latest, message: why });
        return actions;
      }
      if (sidecar) continue; // a sidecar runs beside the next init containers and the app
      return actions; // wait for it to finish
    }
    if (!hasEnded(latest)) return actions;
    if (!sidecar && exitCodeOf(latest) === 0) continue;
    if (!sidecar && policy === 'Never') return actions; // the pod failed
    restartOrBackOff(container, 'init', latest);
    return actions;
  }

  for (const container of pod.spec?.containers ?? []) {
    const latest = instancesOf(runnable, 'app', container.name)[0];
    if (!latest) {
      actions.start.push({ container, kind: 'app', restartCount: 0 });
      continue;
    }
    if (isActive(latest)) {
      if (latest.identity.specHash !== input.specHash(container)) {
        actions.kill.push({ instance: latest, message: `Container ${container.name} definition changed, will be restarted` });
        continue;
      }
      const why = input.probeKillReason(latest.id);
      if (why) actions.kill.push({ instance: latest, message: why });
      continue;
    }
    if (!hasEnded(latest)) continue;
    if (!shouldRestart(policy, exitCodeOf(latest))) continue;
    restartOrBackOff(container, 'app', latest);
  }
  return actions;
}
