// Stopping containers the Kubernetes way (pod-lifecycle "Termination of Pods"): the preStop hook
// first, within the grace period; then SIGTERM (Docker's stop) and SIGKILL when the grace
// period is over. A preStop hook that used up the grace period earns a one-off 2 s extension,
// and no container is given less than 2 s (the kubelet's minimumGracePeriodInSeconds).

import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { dockerStatusCode } from '../runtime/engine.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import type { WorkerContext } from './context.js';
import { runLifecycleHandler } from './lifecycle.js';

export const MINIMUM_GRACE_SECONDS = 2;

export interface KillRequest {
  pod: Pod;
  instance: RuntimeContainer;
  /** The container's spec when the pod still has it (for its preStop hook and ports). */
  container?: Container;
  gracePeriodSeconds: number;
  /** The Killing event's message. */
  message: string;
  podIp?: string;
}

export async function killContainer(ctx: WorkerContext, request: KillRequest): Promise<void> {
  const { pod, instance } = request;
  const name = instance.identity.containerName;
  const spec: Container = request.container ?? { name };
  ctx.events.container(pod, spec, 'Normal', 'Killing', request.message);
  const grace = Math.max(MINIMUM_GRACE_SECONDS, request.gracePeriodSeconds);
  const deadline = Date.now() + grace * 1000;
  const preStop = request.container?.lifecycle?.preStop ?? instance.identity.preStop;
  if (preStop && request.gracePeriodSeconds > 0) {
    const failed = await runLifecycleHandler(ctx.engine, preStop, spec, instance.id, request.podIp, grace * 1000);
    if (failed) {
      ctx.logger.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: name, failure: failed }, 'preStop hook failed');
      // The event says no more, as the kubelet's: the hook's output may hold secrets.
      ctx.events.container(pod, spec, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    }
  }
  const left = Math.max(MINIMUM_GRACE_SECONDS, Math.ceil((deadline - Date.now()) / 1000));
  ctx.probes.forget(instance.id);
  try {
    await ctx.engine.call('stop_container', (d) => d.getContainer(instance.id).stop({ t: left }));
  } catch (err) {
    // 304: it had stopped already; 404: it is gone.
    const code = dockerStatusCode(err);
    if (code !== 304 && code !== 404) throw err;
  }
  await ctx.inventory.refresh(instance.id, false);
}

/** Stops a sandbox: nothing runs in it any more, so there is nothing to drain. */
export async function stopSandbox(ctx: WorkerContext, sandbox: RuntimeContainer): Promise<void> {
  try {
    await ctx.engine.call('kill_container', (d) => d.getContainer(sandbox.id).kill());
  } catch (err) {
    const code = dockerStatusCode(err);
    if (code !== 304 && code !== 404 && code !== 409) throw err;
  }
  await ctx.inventory.refresh(sandbox.id, false);
}
