// Pod and container specs → Docker create options, the way dockershim built pods on Docker: the
// sandbox ("pause") container owns the pod's network namespace (its IP, its hostname, the
// published host ports) and IPC namespace; every other container of the pod joins them with
// `container:<sandbox>` modes, so the containers of a pod share `localhost`.

import { createHash } from 'node:crypto';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type Docker from 'dockerode';
import { parseQuantity } from '../../api/quantity.js';
import type { ContainerIdentity } from './labels.js';
import { containerName, identityLabels } from './labels.js';

/** Stable JSON (sorted keys), so that equal specs hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash that tells a running container is out of date: kubelet restarts a container whose
 * spec hash changed ("Container spec hash changed … will be killed and recreated").
 */
export function containerSpecHash(container: Container): string {
  return createHash('sha256').update(canonical(container)).digest('hex').slice(0, 16);
}

/** The pod's hostname: spec.hostname, else the pod name cut to 63 characters (a DNS label). */
export function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname || pod.metadata?.name || 'pod';
  return name.slice(0, 63).replace(/[-.]+$/, '');
}

interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** hostPorts of every container, published on the sandbox (dockershim did the same). */
export function sandboxPorts(pod: Pod): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const port of c.ports ?? []) {
      if (!port.hostPort) continue;
      const key = `${port.containerPort}/${(port.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: port.hostIP ?? '', HostPort: String(port.hostPort) });
    }
  }
  return { exposed, bindings };
}

export interface SandboxSpecInput {
  pod: Pod;
  identity: ContainerIdentity;
  image: string;
  /** The Docker network of the pod network, or `host` for hostNetwork pods. */
  network: string;
  extraLabels: Record<string, string>;
}

export function sandboxCreateOptions(input: SandboxSpecInput): Docker.ContainerCreateOptions {
  const { pod, identity } = input;
  const hostNetwork = pod.spec?.hostNetwork === true;
  const { exposed, bindings } = hostNetwork ? { exposed: {}, bindings: {} } : sandboxPorts(pod);
  const sysctls: Record<string, string> = {};
  for (const s of pod.spec?.securityContext?.sysctls ?? []) sysctls[s.name] = s.value;
  return {
    name: containerName(identity, identity.sandboxAttempt),
    Image: input.image,
    Hostname: hostNetwork ? undefined : podHostname(pod),
    Labels: identityLabels(identity, input.extraLabels),
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: hostNetwork ? 'host' : input.network,
      PortBindings: bindings,
      // Other containers join this IPC namespace, which Docker allows only when it is shareable.
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      // dockershim gave sandboxes the smallest CPU weight.
      CpuShares: 2,
      Sysctls: Object.keys(sysctls).length ? sysctls : undefined,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
  };
}

export interface ContainerSpecInput {
  pod: Pod;
  container: Container;
  identity: ContainerIdentity;
  sandboxId: string;
  /** `NAME=value` in order (already resolved and expanded). */
  env: string[];
  /** Docker bind specs `host:container[:ro]`. */
  binds: string[];
  command?: string[];
  args?: string[];
  extraLabels: Record<string, string>;
}

/** Bytes of a memory quantity, or undefined when absent. */
function bytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseQuantity(value).value();
}

function milliCpu(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseQuantity(value).milliValue();
}

/** Kubernetes' CPU request → cgroup shares: 1024 per core, at least 2 (pkg/kubelet/cm MilliCPUToShares). */
export function cpuShares(milli: number | undefined): number | undefined {
  if (milli === undefined) return undefined;
  return Math.max(2, Math.floor((milli * 1024) / 1000));
}

export function containerCreateOptions(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { pod, container: c, identity, sandboxId } = input;
  const limits = (c.resources?.limits ?? {}) as Record<string, string | number>;
  const requests = (c.resources?.requests ?? {}) as Record<string, string | number>;
  const memory = bytes(limits['memory']);
  const cpuLimit = milliCpu(limits['cpu']);
  const sc = c.securityContext;
  const podSc = pod.spec?.securityContext;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
  const namespaceOfSandbox = `container:${sandboxId}`;
  return {
    name: containerName(identity, identity.restartCount),
    Image: c.image,
    // Kubernetes' command replaces the image's ENTRYPOINT (and then its CMD is not used);
    // args alone replace the CMD. Docker merges the same way.
    Entrypoint: input.command,
    Cmd: input.args,
    Env: input.env,
    WorkingDir: c.workingDir || undefined,
    User: runAsUser !== undefined ? (runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser)) : undefined,
    Tty: c.tty === true,
    OpenStdin: c.stdin === true,
    StdinOnce: c.stdinOnce === true,
    Labels: identityLabels(identity, input.extraLabels),
    HostConfig: {
      NetworkMode: namespaceOfSandbox,
      IpcMode: pod.spec?.hostIPC ? 'host' : namespaceOfSandbox,
      PidMode: pod.spec?.hostPID ? 'host' : pod.spec?.shareProcessNamespace ? namespaceOfSandbox : undefined,
      Binds: input.binds,
      Memory: memory,
      // No swap beyond the limit: the kubelet runs without swap.
      MemorySwap: memory,
      NanoCpus: cpuLimit !== undefined ? cpuLimit * 1_000_000 : undefined,
      CpuShares: cpuShares(milliCpu(requests['cpu']) ?? cpuLimit),
      Privileged: sc?.privileged === true,
      CapAdd: sc?.capabilities?.add?.length ? [...sc.capabilities.add] : undefined,
      CapDrop: sc?.capabilities?.drop?.length ? [...sc.capabilities.drop] : undefined,
      ReadonlyRootfs: sc?.readOnlyRootFilesystem === true,
      RestartPolicy: { Name: 'no' },
      // json-file so that the agent can serve `kubectl logs`; rotation as the kubelet's
      // containerLogMaxSize (10Mi) and containerLogMaxFiles (5).
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } },
    },
  };
}
