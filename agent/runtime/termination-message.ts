// Termination messages, as the kubelet writes them into `state.terminated.message`: each app and
// init container gets a file of its own in the pod's directory, bind-mounted at its
// terminationMessagePath (default /dev/termination-log), in which the process may explain its
// end. Once the container has exited, the message is the file's last 4 KiB; with the policy
// FallbackToLogsOnError and an empty file, a container that failed gets the last 80 lines of its
// log instead (at most 2 KiB).

import { open } from 'node:fs/promises';
import { demuxBuffer } from './demux.js';
import type { Engine } from './engine.js';

export const MAX_MESSAGE_BYTES = 4096;
export const FALLBACK_LOG_LINES = 80;
export const MAX_FALLBACK_LOG_BYTES = 2048;

/** The last `max` bytes of a file, as text; empty when the file is missing. */
async function tail(path: string, max: number): Promise<string> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const { size } = await file.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await file.close();
  }
}

export interface ExitedContainer {
  id: string;
  tty: boolean;
  exitCode: number;
  file: string;
  policy: 'File' | 'FallbackToLogsOnError';
}

export async function readTerminationMessage(engine: Engine, c: ExitedContainer): Promise<string> {
  const message = await tail(c.file, MAX_MESSAGE_BYTES);
  if (message || c.policy !== 'FallbackToLogsOnError' || c.exitCode === 0) return message;
  const raw = await engine.call('container_logs', (d) =>
    d.getContainer(c.id).logs({ stdout: true, stderr: true, follow: false, tail: FALLBACK_LOG_LINES }),
  ) as unknown as Buffer;
  const text = (c.tty ? raw : demuxBuffer(raw)).toString('utf8');
  return text.length > MAX_FALLBACK_LOG_BYTES ? text.slice(text.length - MAX_FALLBACK_LOG_BYTES) : text;
}
