// Lifecycle handlers (postStart, preStop) run against a container: exec inside it, an HTTP GET
// to the pod, or a sleep. As in Kubernetes, a failed preStop is reported and termination goes on
// (termination.ts); a failed postStart is reported and kills the container (start.ts).

import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import type { Engine } from '../runtime/engine.js';
import { execInContainer } from '../runtime/exec.js';
import { httpProbe } from '../probes/http.js';
import { tcpProbe } from '../probes/tcp.js';

/**
 * Runs the handler; resolves with an error message when it failed, undefined when it succeeded.
 * `stop` interrupts the wait (the pod is being deleted): it resolves at once with a message, and
 * what the handler still does ends with the container, which termination stops next.
 */
export async function runLifecycleHandler(
  engine: Engine,
  handler: LifecycleHandler,
  container: Container,
  containerId: string,
  podIp: string | undefined,
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<string | undefined> {
  const run = (async () => {
    try {
      if (handler.exec) {
        const exec = await execInContainer(engine, containerId, [...(handler.exec.command ?? [])], timeoutMs);
        if (exec.timedOut) return 'command timed out';
        return exec.exitCode === 0 ? undefined : `command exited with ${exec.exitCode}: ${exec.output.trim()}`;
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
  })();
  return stop ? untilStopped(run, stop) : run;
}

const HOOK_INTERRUPTED = 'interrupted: the pod is being deleted';

/** `run`, or HOOK_INTERRUPTED as soon as `stop` aborts, whichever comes first. */
async function untilStopped(run: Promise<string | undefined>, stop: AbortSignal): Promise<string | undefined> {
  if (stop.aborted) return HOOK_INTERRUPTED;
  let onAbort = (): void => {};
  const interrupted = new Promise<string>((resolve) => {
    onAbort = () => resolve(HOOK_INTERRUPTED);
    stop.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run, interrupted]);
  } finally {
    stop.removeEventListener('abort', onAbort);
  }
}

/**
 * What went wrong, worded as the kubelet's handler runner words it ("Exec lifecycle hook ([sh -c
 * …]) for Container "web" in Pod "web-1_default(uid)" failed - error: …"), for the container's
 * status, not for events (the kubelet keeps hook output out of events: it may hold secrets).
 */
export function hookFailureMessage(handler: LifecycleHandler, container: Container, pod: Pod, failure: string): string {
  const meta = pod.metadata ?? {};
  const subject = `for Container "${container.name}" in Pod "${meta.name}_${meta.namespace}(${meta.uid})" failed - error: ${failure}`;
  if (handler.exec) return `Exec lifecycle hook ([${(handler.exec.command ?? []).join(' ')}]) ${subject}`;
  if (handler.httpGet) return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${subject}`;
  if (handler.tcpSocket) return `TCPSocket lifecycle hook ${subject}`;
  return `Lifecycle hook ${subject}`;
}
