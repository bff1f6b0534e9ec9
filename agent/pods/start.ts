// Starting one container of a pod, as the kubelet's startContainer does: make sure the image is
// there (pulling per imagePullPolicy, with ImagePullBackOff between failed pulls), build its
// environment and mounts (a missing ConfigMap or Secret is CreateContainerConfigError), create
// it in the pod's sandbox, start it. Every failure becomes the container's waiting reason and an
// event, and the caller learns when to try again; nothing here throws for bad input.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type Docker from 'dockerode';
import { dockerErrorMessage, isDockerConflict } from '../runtime/engine.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import type { ContainerIdentity } from '../runtime/labels.js';
import { containerCreateOptions, containerSpecHash } from '../runtime/specs.js';
import type { WaitingReason } from '../status/podstatus.js';
import { exitCodeOf } from '../status/podstatus.js';
import type { PreparedVolume } from '../volumes/volumes.js';
import { containerBinds, VolumeError } from '../volumes/volumes.js';
import type { ContainerStart } from './actions.js';
import { shouldRestart } from './actions.js';
import { goDuration } from './backoff.js';
import type { WorkerContext } from './context.js';
import { podDir } from './context.js';
import { ContainerConfigError, containerEnv, expandCommand } from './env.js';
import { hookFailureMessage, runLifecycleHandler } from './lifecycle.js';
import { killContainer, MINIMUM_GRACE_SECONDS } from './termination.js';

export type StepResult = { ok: true } | { ok: false; retryMs: number };

/** How soon to look again at a container whose configuration was not ready. */
const CONFIG_RETRY_MS = 2000;

/** The API server defaults imagePullPolicy; for a pod that lacks it, apply the same rule. */
export function pullPolicy(container: Container): 'Always' | 'IfNotPresent' | 'Never' {
  const policy = container.imagePullPolicy;
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  const image = container.image ?? '';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tagged = lastPart.includes(':') || image.includes('@');
  return !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

export function restartBackOffKey(pod: Pod, container: Container): string {
  return `${pod.metadata?.uid}/${container.name}`;
}

export async function ensureImage(ctx: WorkerContext, pod: Pod, container: Container, waiting: Map<string, WaitingReason>): Promise<StepResult> {
  const image = container.image ?? '';
  const policy = pullPolicy(container);
  const { events } = ctx;
  if (!image) {
    waiting.set(container.name, { reason: 'InvalidImageName', message: 'container has no image' });
    return { ok: false, retryMs: 60_000 };
  }
  const present = await ctx.images.inspect(image);
  if (present && policy !== 'Always') {
    events.container(pod, container, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return { ok: true };
  }
  if (!present && policy === 'Never') {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    waiting.set(container.name, { reason: 'ErrImageNeverPull', message });
    events.container(pod, container, 'Warning', 'ErrImageNeverPull', message);
    return { ok: false, retryMs: ctx.config.imagePullBackOff.initialMs };
  }
  const key = `${pod.metadata?.uid}/${image}`;
  if (ctx.imageBackOff.inBackOffSinceUpdate(key)) {
    const message = `Back-off pulling image "${image}"`;
    waiting.set(container.name, { reason: 'ImagePullBackOff', message });
    events.container(pod, container, 'Normal', 'BackOff', message);
    events.container(pod, container, 'Warning', 'Failed', 'Error: ImagePullBackOff');
    return { ok: false, retryMs: ctx.imageBackOff.remainingSinceUpdate(key) };
  }
  events.container(pod, container, 'Normal', 'Pulling', `Pulling image "${image}"`);
  const began = Date.now();
  try {
    const pulled = await ctx.images.pull(image);
    const took = goDuration(Date.now() - began);
    events.container(pod, container, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${pulled.sizeBytes} bytes.`);
    ctx.imageBackOff.reset(key);
    return { ok: true };
  } catch (err) {
    const message = (err as Error).message;
    ctx.imageBackOff.next(key);
    waiting.set(container.name, { reason: 'ErrImagePull', message });
    events.container(pod, container, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
    events.container(pod, container, 'Warning', 'Failed', 'Error: ErrImagePull');
    // Look again soon, to report the back-off (ImagePullBackOff) until the next pull is due.
    return { ok: false, retryMs: Math.min(1000, ctx.imageBackOff.remainingSinceUpdate(key) / 2) };
  }
}

/** Creates a container; a leftover of the same name (an agent crash between create and record) is replaced. */
export async function createNamed(ctx: WorkerContext, options: Docker.ContainerCreateOptions): Promise<string> {
  try {
    return (await ctx.engine.call('create_container', (d) => d.createContainer(options))).id;
  } catch (err) {
    if (!isDockerConflict(err) || !options.name) throw err;
    await ctx.engine.call('remove_container', (d) => d.getContainer(options.name!).remove({ force: true }));
    return (await ctx.engine.call('create_container', (d) => d.createContainer(options))).id;
  }
}

export async function startContainer(
  ctx: WorkerContext,
  pod: Pod,
  start: ContainerStart,
  sandbox: RuntimeContainer,
  volumes: Map<string, PreparedVolume>,
  waiting: Map<string, WaitingReason>,
  stop: AbortSignal,
): Promise<StepResult> {
  const { container } = start;
  const { events } = ctx;
  // A container held back by an earlier one's postStart hook does not start in a pod being deleted.
  if (stop.aborted) return { ok: true };
  const image = await ensureImage(ctx, pod, container, waiting);
  if (!image.ok) return image;

  let env: Map<string, string>;
  let binds: string[];
  let terminationFile: string | undefined;
  try {
    env = await containerEnv({ pod, container, runtime: { podIp: sandbox.ip, hostIp: ctx.hostIp }, allocatable: ctx.allocatable(), objects: ctx.objects });
    binds = [...(await containerBinds(container, volumes)), ...etcBinds(ctx, pod, container)];
    terminationFile = await terminationMessageBind(ctx, pod, container, start.restartCount, binds);
  } catch (err) {
    if (!(err instanceof ContainerConfigError || err instanceof VolumeError)) throw err;
    waiting.set(container.name, { reason: 'CreateContainerConfigError', message: err.message });
    events.container(pod, container, 'Warning', 'Failed', `Error: ${err.message}`);
    return { ok: false, retryMs: CONFIG_RETRY_MS };
  }
  const { command, args } = expandCommand(container, env);
  const identity: ContainerIdentity = {
    node: ctx.config.nodeName,
    kind: start.kind,
    podUid: pod.metadata?.uid ?? '',
    podName: pod.metadata?.name ?? '',
    podNamespace: pod.metadata?.namespace ?? '',
    containerName: container.name,
    restartCount: start.restartCount,
    specHash: containerSpecHash(container),
    sandboxAttempt: sandbox.identity.sandboxAttempt,
    sandboxId: sandbox.id,
    terminationGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
    preStop: container.lifecycle?.preStop,
    terminationMessageFile: terminationFile,
    terminationMessagePolicy: terminationFile ? (container.terminationMessagePolicy === 'FallbackToLogsOnError' ? 'FallbackToLogsOnError' : 'File') : undefined,
  };
  if (start.backOffEventMs !== undefined) ctx.restartBackOff.next(restartBackOffKey(pod, container), start.backOffEventMs);
  const options = containerCreateOptions({
    pod,
    container,
    identity,
    sandboxId: sandbox.id,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    binds,
    command,
    args,
    extraLabels: ctx.config.dockerLabels,
  });
  let id: string;
  try {
    id = await createNamed(ctx, options);
  } catch (err) {
    const message = dockerErrorMessage(err);
    waiting.set(container.name, { reason: 'CreateContainerError', message });
    events.container(pod, container, 'Warning', 'Failed', `Error: ${message}`);
    return { ok: false, retryMs: CONFIG_RETRY_MS };
  }
  events.container(pod, container, 'Normal', 'Created', `Created container: ${container.name}`);
  waiting.delete(container.name);
  return startCreated(ctx, pod, container, id, start.restartCount, sandbox.ip, waiting, stop);
}

/**
 * Starts a created container (also one left created by an agent that stopped in between), then
 * runs its postStart hook, as the kubelet's startContainer does: the caller waits for the hook,
 * so the pod's status, reported before the sync acted, shows the container waiting
 * (ContainerCreating) until the hook is done. A hook that fails kills the container; while its
 * restart policy brings it back, it waits with reason PostStartHookError. Skiff bounds the hook
 * by the pod's termination grace period, where the kubelet would wait for a hung hook forever.
 * As the kubelet cancels the sync of a pod being deleted, `stop` ends the wait for the hook:
 * termination then stops the container with the pod's grace period, hook or not.
 */
export async function startCreated(
  ctx: WorkerContext,
  pod: Pod,
  container: Container,
  id: string,
  restartCount: number,
  podIp: string | undefined,
  waiting: Map<string, WaitingReason>,
  stop: AbortSignal,
): Promise<StepResult> {
  try {
    await ctx.engine.call('start_container', (d) => d.getContainer(id).start());
  } catch (err) {
    // Docker keeps the container, created, with the error: its status shows StartError and the
    // restart policy and back-off apply as to any failed container.
    ctx.events.container(pod, container, 'Warning', 'Failed', `Error: ${dockerErrorMessage(err)}`);
    await ctx.inventory.refresh(id, false);
    return { ok: true };
  }
  ctx.events.container(pod, container, 'Normal', 'Started', `Started container ${container.name}`);
  if (restartCount > 0) ctx.metrics.containerRestarts.inc({ namespace: pod.metadata?.namespace ?? '' });
  const started = await ctx.inventory.refresh(id, false);
  const postStart = container.lifecycle?.postStart;
  if (postStart && started) {
    const graceSeconds = pod.spec?.terminationGracePeriodSeconds ?? 30;
    const failed = await runLifecycleHandler(ctx.engine, postStart, container, id, podIp, Math.max(MINIMUM_GRACE_SECONDS, graceSeconds) * 1000, stop);
    if (failed && !stop.aborted) {
      const message = hookFailureMessage(postStart, container, pod, failed);
      ctx.logger.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: container.name, message }, 'postStart hook failed');
      // The event says no more, as the kubelet's: the hook's output may hold secrets.
      ctx.events.container(pod, container, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
      await killContainer(ctx, { pod, instance: started, container, gracePeriodSeconds: graceSeconds, message: 'FailedPostStartHook', podIp });
      const killed = ctx.inventory.get(id);
      const policy = container.restartPolicy ?? pod.spec?.restartPolicy;
      if (killed && shouldRestart(policy, exitCodeOf(killed))) waiting.set(container.name, { reason: 'PostStartHookError', message });
    }
  }
  return { ok: true };
}

/**
 * A fresh, empty, world-writable file for the container's termination message (the process may
 * run as any user), bind-mounted at its terminationMessagePath unless a volume is mounted there.
 * One per start, as the kubelet does, so that a restarted container does not inherit a message.
 */
async function terminationMessageBind(ctx: WorkerContext, pod: Pod, container: Container, restartCount: number, binds: string[]): Promise<string | undefined> {
  const path = container.terminationMessagePath;
  if (!path || (container.volumeMounts ?? []).some((m) => m.mountPath === path)) return undefined;
  const dir = join(podDir(ctx.config, pod.metadata?.uid ?? ''), 'containers', container.name);
  const file = join(dir, String(restartCount));
  await mkdir(dir, { recursive: true });
  await writeFile(file, '');
  await chmod(file, 0o666);
  binds.push(`${file}:${path}`);
  return file;
}

/** /etc/hosts and /etc/resolv.conf of the pod, unless the container mounts its own or uses the host's network. */
function etcBinds(ctx: WorkerContext, pod: Pod, container: Container): string[] {
  const dir = podDir(ctx.config, pod.metadata?.uid ?? '');
  const mounted = new Set((container.volumeMounts ?? []).map((m) => m.mountPath));
  const binds: string[] = [];
  if (!pod.spec?.hostNetwork && !mounted.has('/etc/hosts')) binds.push(`${dir}/etc-hosts:/etc/hosts`);
  const ownResolver = !pod.spec?.hostNetwork || pod.spec.dnsPolicy === 'ClusterFirstWithHostNet' || pod.spec.dnsPolicy === 'None';
  if (ownResolver && !mounted.has('/etc/resolv.conf')) binds.push(`${dir}/resolv.conf:/etc/resolv.conf`);
  return binds;
}
