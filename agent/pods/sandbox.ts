// Creating a pod's sandbox: the infra ("pause") container that owns the pod's network and IPC
// namespaces on the pod network, publishes its hostPorts and carries its hostname. Once it runs,
// the pod's /etc/hosts (naming the pod IP) and /etc/resolv.conf are written for its containers.
// Older sandboxes of the pod are removed.

import { mkdir, writeFile } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { dockerErrorMessage } from '../runtime/engine.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import type { ContainerIdentity } from '../runtime/labels.js';
import { SANDBOX_CONTAINER_NAME } from '../runtime/labels.js';
import { sandboxCreateOptions } from '../runtime/specs.js';
import type { WorkerContext } from './context.js';
import { podDir } from './context.js';
import { hostsFile, nodeResolverConfig, podResolverConfig, resolvConf } from './etc-files.js';
import { createNamed } from './start.js';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

async function ensureInfraImage(ctx: WorkerContext): Promise<void> {
  const image = ctx.config.podInfraImage;
  if (await ctx.images.inspect(image)) return;
  await ctx.images.pull(image);
}

export async function writePodEtcFiles(ctx: WorkerContext, pod: Pod, podIp: string | undefined): Promise<void> {
  const dir = podDir(ctx.config, pod.metadata?.uid ?? '');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // Written in place (not renamed): containers bind-mount these very files.
  await writeFile(`${dir}/etc-hosts`, hostsFile(pod, podIp, ctx.config.clusterDomain));
  const resolver = podResolverConfig(pod, ctx.config.clusterDns, ctx.config.clusterDomain, nodeResolverConfig());
  await writeFile(`${dir}/resolv.conf`, resolvConf(resolver));
}

/** Creates and starts the sandbox; throws SandboxError with Docker's reason when it cannot. */
export async function createSandbox(ctx: WorkerContext, pod: Pod, attempt: number, stale: RuntimeContainer[]): Promise<RuntimeContainer> {
  const identity: ContainerIdentity = {
    node: ctx.config.nodeName,
    kind: 'sandbox',
    podUid: pod.metadata?.uid ?? '',
    podName: pod.metadata?.name ?? '',
    podNamespace: pod.metadata?.namespace ?? '',
    containerName: SANDBOX_CONTAINER_NAME,
    restartCount: 0,
    specHash: '',
    sandboxAttempt: attempt,
    terminationGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
  };
  const options = sandboxCreateOptions({ pod, identity, image: ctx.config.podInfraImage, network: ctx.network.name, extraLabels: ctx.config.dockerLabels });
  let id: string | undefined;
  try {
    await ensureInfraImage(ctx);
    // Files must exist before containers bind-mount them; the pod IP line follows once known.
    await writePodEtcFiles(ctx, pod, undefined);
    for (const old of stale) await ctx.engine.call('remove_container', (d) => d.getContainer(old.id).remove({ force: true })).catch(() => undefined);
    id = await createNamed(ctx, options);
    await ctx.engine.call('start_container', (d) => d.getContainer(id!).start());
  } catch (err) {
    if (id) await ctx.engine.call('remove_container', (d) => d.getContainer(id!).remove({ force: true })).catch(() => undefined);
    throw new SandboxError(dockerErrorMessage(err));
  } finally {
    for (const old of stale) ctx.inventory.forget(old.id, false);
  }
  const sandbox = await ctx.inventory.refresh(id, false);
  if (!sandbox) throw new SandboxError('the sandbox vanished right after it started');
  await writePodEtcFiles(ctx, pod, pod.spec?.hostNetwork ? ctx.hostIp : sandbox.ip);
  return sandbox;
}
