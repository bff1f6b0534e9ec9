// The pods table: NAME READY STATUS RESTARTS AGE, and for `-o wide` IP NODE NOMINATED NODE
// READINESS GATES. STATUS is the one-word summary kubectl users rely on; it follows the rules of
// Kubernetes' pod printer (pkg/printers/internalversion), in the same order of precedence.

import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { humanDuration, parseTimestamp, timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer, type RowCondition } from './printer.js';

const columns = [
  NAME_COLUMN,
  column('Ready', 'string', 'Ready containers out of all containers (sidecars included).'),
  column('Status', 'string', 'Summary of the pod and container states.'),
  column('Restarts', 'string', 'Container restarts, and how long ago the last one was.'),
  AGE_COLUMN,
  column('IP', 'string', 'The pod IP address.', { priority: 1 }),
  column('Node', 'string', 'The node the pod is bound to.', { priority: 1 }),
  column('Nominated Node', 'string', 'The node the scheduler nominated after preemption.', { priority: 1 }),
  column('Readiness Gates', 'string', 'Readiness gates that are true, out of all of them.', { priority: 1 }),
];

/** Set by the node lifecycle controller on pods of a node that stopped reporting. */
const NODE_LOST_REASON = 'NodeLost';

export const podPrinter = printer<Pod>(columns, podCells, podRowConditions);

function podCells(pod: Pod, now: Date): unknown[] {
  const summary = summarize(pod);
  const restarts =
    summary.restarts !== 0 && summary.lastRestart !== undefined
      ? `${summary.restarts} (${humanDuration(now.getTime() - summary.lastRestart)} ago)`
      : String(summary.restarts);
  return [
    pod.metadata?.name ?? '',
    `${summary.ready}/${summary.total}`,
    summary.status,
    restarts,
    timeSince(pod.metadata?.creationTimestamp, now),
    podIP(pod.status) || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    readinessGates(pod),
  ];
}

interface PodSummary {
  ready: number;
  total: number;
  status: string;
  restarts: number;
  /** When a container last terminated before a restart (ms since the epoch). */
  lastRestart: number | undefined;
}

/** READY, STATUS and RESTARTS together: they are computed in one pass, as Kubernetes does. */
function summarize(pod: Pod): PodSummary {
  const status = pod.status ?? {};
  const conditions = status.conditions ?? [];
  const initContainers = pod.spec?.initContainers ?? [];
  const phase = status.phase ?? '';

  let reason = status.reason || phase;
  // A pod held back by scheduling gates says so rather than `Pending`.
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  // Sidecars (init containers with restartPolicy Always) count as containers of the pod.
  const initByName = new Map(initContainers.map((c) => [c.name, c]));
  const total = (pod.spec?.containers?.length ?? 0) + initContainers.filter(isSidecar).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestart: number | undefined;

  // Init containers run in order; the first one that has not succeeded explains the pod.
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [index, cs] of initStatuses.entries()) {
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, lastTermination(cs));
    const sidecar = isSidecar(initByName.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, lastTermination(cs));
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (terminated) {
      reason = terminated.reason
        ? `Init:${terminated.reason}`
        : terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode ?? 0}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${index}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionIsTrue(conditions, 'Initialized')) {
    // Restarts of ordinary init containers no longer matter once the pod is initialized.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    // Walk backwards so that the first container with something to say has the last word.
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as ContainerStatus;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, lastTermination(cs));
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // One container completed while another still runs: the pod is not done.
    if (reason === 'Completed' && hasRunning) {
      const podReady = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }

  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && status.reason === NODE_LOST_REASON) {
    reason = 'Unknown';
  } else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  return { ready, total, status: reason, restarts, lastRestart };
}

function podRowConditions(pod: Pod): RowCondition[] | undefined {
  switch (pod.status?.phase) {
    case 'Succeeded':
      return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return undefined;
  }
}

function isSidecar(container: Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function lastTermination(cs: ContainerStatus): number | undefined {
  return parseTimestamp(cs.lastState?.terminated?.finishedAt);
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** The first condition of this type decides, as in Kubernetes' helpers. */
function conditionIsTrue(conditions: readonly PodCondition[], type: string): boolean {
  return conditions.find((c) => c.type === type)?.status === 'True';
}

/**
 * `status.podIP` wins over `status.podIPs[0]`, as Kubernetes' v1 conversion makes it
 * authoritative for older clients.
 */
function podIP(status: PodStatus | undefined): string {
  return status?.podIP || status?.podIPs?.[0]?.ip || '';
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const passing = gates.filter((gate) => conditionIsTrue(conditions, gate.conditionType)).length;
  return `${passing}/${gates.length}`;
}
