// `kubectl exec`, `attach` and `port-forward` on Docker: the pod's container is found as for
// `kubectl logs` (the current instance), the exec is created (or the attach prepared) before the
// caller's connection is upgraded, so that an unknown container or one that is not running is an
// HTTP error kubectl can print, and the process's streams are Docker's hijacked connection:
// stdout and stderr framed (demux.ts) unless the session has a TTY. Port-forwarding connects, as
// the kubelet does, to localhost inside the pod's network namespace (pod-dial.ts); when the
// agent cannot enter it (a Docker engine on another host, no nsenter, not root), to the pod's IP
// from the node, which reaches no port the pod binds to 127.0.0.1 only: its errors say so.

import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { Exec } from 'dockerode';
import { badRequest } from '../../api/errors.js';
import type { ContainerStreamSource, PodPorts, ProcessStreams, StreamOptions, StreamSession } from '../interfaces.js';
import type { Engine } from './engine.js';
import { dockerErrorMessage, isDockerConflict, isDockerNotFound } from './engine.js';
import { execExitCode } from './exec.js';
import type { ContainerLocator } from './logs.js';
import { connectLocalhost, connectTcp, NetnsDialer, NetnsUnavailableError } from './pod-dial.js';

/** Where a pod's network is: the node's own, or its sandbox's (with the pod IP). */
export type PodNetworkLocation = { hostNetwork: true; ip: string } | { hostNetwork: false; ip: string; sandboxId: string };

/** Finds a pod's network; throws a StatusError when the pod is unknown or not running. */
export type PodNetworkLocator = (namespace: string, pod: string) => PodNetworkLocation;

export class DockerSessions implements ContainerStreamSource {
  /** Set once nsenter turned out to be missing: why namespaces cannot be entered. */
  private noNsenter: string | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly locate: ContainerLocator,
    private readonly locateNetwork: PodNetworkLocator,
    /** The engine's address when it is not on this host (tcp://): no namespace of its pods can be entered. */
    private readonly remoteEngine?: string,
  ) {}

  async portForward(namespace: string, pod: string): Promise<PodPorts> {
    const target = this.locateNetwork(namespace, pod);
    if (this.remoteEngine) return fromNode(target.ip, `the Docker engine (${this.remoteEngine}) is on another host`);
    // A hostNetwork pod's namespace is the node's, the agent's own.
    if (target.hostNetwork) return { connect: (port) => connectLocalhost(port) };
    // Entering another process's namespace takes root (CAP_SYS_ADMIN).
    const cannotEnter = this.noNsenter ?? (process.getuid?.() === 0 ? undefined : 'the agent does not run as root');
    if (cannotEnter) return fromNode(target.ip, cannotEnter);
    const netns = await this.sandboxNetns(target.sandboxId, pod);
    if (typeof netns !== 'string') return fromNode(target.ip, netns.unavailable);
    const dialer = new NetnsDialer(netns);
    return {
      connect: async (port) => {
        try {
          return await dialer.connect(port);
        } catch (err) {
          if (!(err instanceof NetnsUnavailableError && err.nsenterMissing)) throw err;
          this.noNsenter = err.message;
          return dialFromNode(target.ip, port, err.message);
        }
      },
      close: () => dialer.close(),
    };
  }

  /** The sandbox's network namespace as its process shows it (/proc/<pid>/ns/net), or why not. */
  private async sandboxNetns(sandboxId: string, pod: string): Promise<string | { unavailable: string }> {
    let info;
    try {
      info = await this.engine.call('inspect_container', (d) => d.getContainer(sandboxId).inspect());
    } catch (err) {
      if (isDockerNotFound(err)) throw badRequest(`pod ${pod} has no running sandbox to forward ports to`);
      throw err;
    }
    const pid = info.State.Pid;
    if (!info.State.Running || !pid) throw badRequest(`pod ${pod} has no running sandbox to forward ports to`);
    // An agent in another PID namespace than the engine's sees another process, or none, under
    // that number; the sandbox's own names its container in its cgroup.
    const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cgroup.includes(info.Id)) return { unavailable: `the sandbox's process (pid ${pid}) is not in this agent's PID namespace` };
    return `/proc/${pid}/ns/net`;
  }

  async exec(namespace: string, pod: string, container: string, command: string[], options: StreamOptions): Promise<StreamSession> {
    const { id } = this.locate(namespace, pod, container, false);
    let exec: Exec;
    try {
      exec = await this.engine.call('exec_create', (d) =>
        d.getContainer(id).exec({ Cmd: command, AttachStdin: options.stdin, AttachStdout: options.stdout, AttachStderr: options.stderr, Tty: options.tty }),
      );
    } catch (err) {
      throw notRunning(err, container, pod);
    }
    return {
      framed: !options.tty,
      start: async () => (await this.engine.call('exec_start', () => exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty }))) as ProcessStreams,
      resize: async (width, height) => {
        await this.engine.call('exec_resize', () => exec.resize({ w: width, h: height }));
      },
      exitCode: () => execExitCode(this.engine, exec),
    };
  }

  async attach(namespace: string, pod: string, container: string, options: StreamOptions): Promise<StreamSession> {
    const { id, tty } = this.locate(namespace, pod, container, false);
    const target = this.engine.docker.getContainer(id);
    const info = await this.engine.call('inspect_container', () => target.inspect());
    if (!info.State.Running) throw badRequest(`container "${container}" in pod "${pod}" is not running`);
    return {
      // Attach shows the container's own streams: framed unless the container has a TTY.
      framed: !tty,
      start: async () => {
        try {
          return (await this.engine.call('attach_container', () =>
            target.attach({ stream: true, hijack: true, stdin: options.stdin, stdout: options.stdout, stderr: options.stderr }),
          )) as ProcessStreams;
        } catch (err) {
          throw notRunning(err, container, pod);
        }
      },
      resize: async (width, height) => {
        await this.engine.call('resize_container', () => target.resize({ w: width, h: height }));
      },
      exitCode: async () => undefined,
    };
  }
}

/** Docker's 409 ("Container … is not running") in Kubernetes' terms; other errors unchanged. */
function notRunning(err: unknown, container: string, pod: string): unknown {
  if (isDockerConflict(err)) return badRequest(`container "${container}" in pod "${pod}" is not running: ${dockerErrorMessage(err)}`);
  return err;
}

/** Connections to the pod's IP from the node, when its namespace cannot be entered (`why`). */
function fromNode(ip: string, why: string): PodPorts {
  return { connect: (port) => dialFromNode(ip, port, why) };
}

async function dialFromNode(ip: string, port: number, why: string): Promise<Socket> {
  try {
    return await connectTcp(ip, port);
  } catch (err) {
    throw new Error(`${(err as Error).message} (dialled the pod's IP from the node, as ${why}: a port the pod binds to 127.0.0.1 only is out of reach)`);
  }
}
