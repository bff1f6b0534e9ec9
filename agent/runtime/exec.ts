// Running a command inside a container for the agent itself (exec probes and hooks; `kubectl
// exec` is sessions.ts): Docker exec with stdout and stderr attached, the output demultiplexed
// and capped, the exit code read back after the stream ends. A timeout stops waiting (as the
// kubelet does for exec probes); Docker cannot kill an exec'd process, so it may run on inside
// the container.

import type { Exec } from 'dockerode';
import { DockerDemux } from './demux.js';
import type { Engine } from './engine.js';

export interface ExecResult {
  exitCode: number;
  /** stdout and stderr, at most `maxOutputBytes`. */
  output: string;
  timedOut: boolean;
}

export async function execInContainer(engine: Engine, containerId: string, command: string[], timeoutMs: number, maxOutputBytes = 10 * 1024): Promise<ExecResult> {
  const exec = await engine.call('exec_create', (d) =>
    d.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false }),
  );
  const stream = (await engine.call('exec_start', () => exec.start({ hijack: true, stdin: false }))) as NodeJS.ReadableStream & { destroy(): void };
  const chunks: Buffer[] = [];
  let size = 0;
  const demux = new DockerDemux();
  demux.on('data', (chunk: Buffer) => {
    if (size >= maxOutputBytes) return;
    chunks.push(chunk.subarray(0, maxOutputBytes - size));
    size += chunk.length;
  });
  stream.pipe(demux);
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    demux.on('end', done);
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
  stream.destroy();
  const output = Buffer.concat(chunks).toString('utf8');
  if (!finished) return { exitCode: -1, output, timedOut: true };
  const exitCode = await execExitCode(engine, exec);
  return exitCode === undefined ? { exitCode: -1, output, timedOut: true } : { exitCode, output, timedOut: false };
}

/**
 * The exit code of an exec whose streams have ended, or undefined if Docker does not record one
 * within ~200 ms (the stream can end a moment before Docker records the exit code).
 */
export async function execExitCode(engine: Engine, exec: Exec): Promise<number | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const info = await engine.call('exec_inspect', () => exec.inspect());
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}
