// exec probes: the command runs in the container through Docker exec; exit code 0 is success.
// timeoutSeconds applies (the kubelet enforces it for exec probes since 1.20).

import type { ExecAction } from 'kubernetes-types/core/v1.js';
import type { Engine } from '../runtime/engine.js';
import { execInContainer } from '../runtime/exec.js';
import type { ProbeOutcome } from './outcome.js';

export async function execProbe(engine: Engine, action: ExecAction, containerId: string, timeoutMs: number): Promise<ProbeOutcome> {
  const command = action.command ?? [];
  if (!command.length) return { result: 'error', output: 'exec probe has no command' };
  try {
    const run = await execInContainer(engine, containerId, [...command], timeoutMs);
    if (run.timedOut) return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
    if (run.exitCode === 0) return { result: 'success', output: run.output };
    return { result: 'failure', output: run.output.trim() || `command ${JSON.stringify(command.join(' '))} exited with ${run.exitCode}` };
  } catch (err) {
    return { result: 'error', output: (err as Error).message };
  }
}
