// Lifecycle handlers (postStart, preStop) run against a container: exec inside it, an HTTP GET
// to the pod, or a sleep. As in Kubernetes, a failed preStop is reported and termination goes on
// (termination.ts); a failed postStart is reported and kills the container (start.ts).

import type { Container, LifecycleHandler } from 'kubernetes-types/core/v1.js';
import type { Engine } from '../runtime/engine.js';
import { execInContainer } from '../runtime/exec.js';
import { httpProbe } from '../probes/http.js';
import { tcpProbe } from '../probes/tcp.js';

/** Runs the handler; resolves with an error message when it failed, undefined when it succeeded. */
export async function runLifecycleHandler(
  engine: Engine,
  handler: LifecycleHandler,
  container: Container,
  containerId: string,
  podIp: string | undefined,
  timeoutMs: number,
): Promise<string | undefined> {
  try {
    if (handler.exec) {
      const run = await execInContainer(engine, containerId, [...(handler.exec.command ?? [])], timeoutMs);
      if (run.timedOut) return 'command timed out';
      return run.exitCode === 0 ? undefined : `command exited with ${run.exitCode}: ${run.output.trim()}`;
    }
    if (handler.httpGet) {
      const outcome = await httpProbe(handler.httpGet, container, podIp ?? '', timeoutMs);
      return outcome.result === 'success' ? undefined : outcome.output;
    }
    if (handler.tcpSocket) {
      const outcome = await tcpProbe(handler.tcpSocket, container, podIp ?? '', timeoutMs);
      return outcome.result === 'success' ? undefined : outcome.output;
    }
    if (handler.sleep) {
      await new Promise((r) => setTimeout(r, Math.min(timeoutMs, Math.max(0, handler.sleep!.seconds) * 1000)));
      return undefined;
    }
    return 'handler has no action';
  } catch (err) {
    return (err as Error).message;
  }
}
