// `kubectl exec`, `attach` and `port-forward` on Docker: the pod's container is found as for
// `kubectl logs` (the current instance), the exec is created (or the attach prepared) before the
// caller's connection is upgraded, so that an unknown container or one that is not running is an
// HTTP error kubectl can print, and the process's streams are Docker's hijacked connection:
// stdout and stderr framed (demux.ts) unless the session has a TTY. Port-forwarding connects to
// the pod's IP from the host (the kubelet connects from inside the pod's network namespace: a
// port the pod binds to 127.0.0.1 only is out of reach here).

import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Exec } from 'dockerode';
import { badRequest } from '../../api/errors.js';
import type { ContainerStreamSource, PodPorts, ProcessStreams, StreamOptions, StreamSession } from '../interfaces.js';
import type { Engine } from './engine.js';
import { dockerErrorMessage, isDockerConflict } from './engine.js';
import { execExitCode } from './exec.js';
import type { ContainerLocator } from './logs.js';

/** The address of a pod's network; throws a StatusError when the pod is unknown or not running. */
export type PodAddressLocator = (namespace: string, pod: string) => string;

export class DockerSessions implements ContainerStreamSource {
  constructor(
    private readonly engine: Engine,
    private readonly locate: ContainerLocator,
    private readonly locateAddress: PodAddressLocator,
  ) {}

  async portForward(namespace: string, pod: string): Promise<PodPorts> {
    const host = this.locateAddress(namespace, pod);
    return {
      connect: (port) =>
        new Promise<Duplex>((resolve, reject) => {
          const socket = tcpConnect({ host, port });
          socket.once('connect', () => {
            socket.off('error', reject);
            resolve(socket);
          });
          socket.once('error', reject);
        }),
    };
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
