// A pod's status computed from what the agent sees (its containers in Docker, the waiting
// reasons of the containers it could not start, the probe results), following the kubelet
// (pkg/kubelet/kubelet_pods.go getPhase and generateAPIPodStatus, pkg/kubelet/status):
// container states and reasons, the pod phase, and the conditions PodReadyToStartContainers,
// Initialized, Ready, ContainersReady and PodScheduled with stable lastTransitionTimes. A pure
// function: everything it needs is in its input.

import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { RuntimeContainer } from '../runtime/inventory.js';
import { isActive } from '../runtime/inventory.js';
import { kubeTime } from '../../api/time.js';
import { isTerminalPhase } from '../../api/pod-phase.js';

export interface WaitingReason {
  reason: string;
  message?: string;
}

/** What the agent knows about one container of the pod spec. */
export interface ContainerView {
  /** The newest instance, if one was ever created. */
  latest?: RuntimeContainer;
  /** The instance before it (for lastState). */
  previous?: RuntimeContainer;
  /** Why the container is waiting (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError…). */
  waiting?: WaitingReason;
  /** Readiness of the latest instance (probe result, or true without a readiness probe). */
  ready: boolean;
  /** Startup of the latest instance (startup probe result, or true without one). */
  started: boolean;
  /** The imageID the status reports for the latest instance. */
  imageId?: string;
}

export interface PodStatusInput {
  pod: Pod;
  hostIp: string;
  /** The pod's current sandbox. */
  sandbox?: RuntimeContainer;
  views: Map<string, ContainerView>;
  /** The pod is being deleted: nothing restarts any more, so stopped containers decide the phase. */
  terminating: boolean;
  /** RFC 3339 time (seconds) to stamp transitions and startTime with. */
  now: string;
}

type Phase = NonNullable<PodStatus['phase']>;

const EPOCH = '1970-01-01T00:00:00Z';

/** Kubernetes times have second precision (metav1.Time). */
export function apiTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : kubeTime(ms);
}

/** Created but never started, and not because starting failed: the agent will start it. */
export function isPendingStart(c: RuntimeContainer | undefined): boolean {
  return c?.state === 'created' && !c.error && !c.startedAt;
}

/** The instance ended (or could not start). */
export function hasEnded(c: RuntimeContainer | undefined): boolean {
  return !!c && !isActive(c) && !isPendingStart(c);
}

/** Exit code as Kubernetes reports it; a container that could not start counts as failed. */
export function exitCodeOf(c: RuntimeContainer): number {
  if (c.state === 'created' && c.error) return c.exitCode || 128;
  return c.exitCode;
}

export function terminatedState(c: RuntimeContainer): NonNullable<ContainerState['terminated']> {
  const startError = c.state === 'created' && !!c.error;
  const exitCode = exitCodeOf(c);
  const reason = c.oomKilled ? 'OOMKilled' : startError ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error';
  const state: NonNullable<ContainerState['terminated']> = {
    exitCode,
    reason,
    startedAt: apiTime(c.startedAt) ?? EPOCH,
    finishedAt: apiTime(c.finishedAt) ?? apiTime(c.createdAt) ?? EPOCH,
    containerID: `docker://${c.id}`,
  };
  if (startError) (state as { message?: string }).message = c.error;
  else if (c.terminationMessage) (state as { message?: string }).message = c.terminationMessage;
  return state;
}

function containerStatus(container: Container, view: ContainerView | undefined, defaultWaiting: string, isInit: boolean, terminating: boolean): ContainerStatus {
  const latest = view?.latest;
  const previous = view?.previous;
  let state: ContainerState;
  let lastState: ContainerState = previous && hasEnded(previous) ? { terminated: terminatedState(previous) } : {};
  let ready = false;
  let started = false;
  if (latest && isActive(latest)) {
    state = { running: { startedAt: apiTime(latest.startedAt) ?? EPOCH } };
    ready = isInit && container.restartPolicy !== 'Always' ? false : view.ready && view.started;
    started = view.started;
  } else if (latest && isPendingStart(latest)) {
    state = { waiting: { reason: 'ContainerCreating' } };
  } else if (latest) {
    if (view.waiting && !terminating) {
      state = { waiting: { ...view.waiting } };
      lastState = { terminated: terminatedState(latest) };
    } else {
      state = { terminated: terminatedState(latest) };
      // An init container that completed is "ready" (kubelet sets it so).
      ready = isInit && exitCodeOf(latest) === 0;
    }
  } else {
    state = { waiting: view?.waiting ? { ...view.waiting } : { reason: defaultWaiting } };
  }
  const status: ContainerStatus = {
    name: container.name,
    state,
    lastState,
    ready,
    restartCount: latest?.identity.restartCount ?? 0,
    image: container.image ?? '',
    imageID: latest ? (view?.imageId ?? `docker://${latest.imageId}`) : '',
    started,
  };
  if (latest) (status as { containerID?: string }).containerID = `docker://${latest.id}`;
  return status;
}

/** The kubelet's getPhase. */
export function podPhase(pod: Pod, init: ContainerStatus[], app: ContainerStatus[], terminating: boolean): Phase {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInitialization = 0;
  let failedInitialization = 0;
  const initSpecs = new Map((pod.spec?.initContainers ?? []).map((c) => [c.name, c]));
  for (const s of init) {
    const sidecar = initSpecs.get(s.name)?.restartPolicy === 'Always';
    if (sidecar) {
      if (!s.state?.running || !s.started) pendingInitialization++;
      continue;
    }
    if (s.state?.running) pendingInitialization++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) failedInitialization++;
    else pendingInitialization++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInitialization > 0 && (policy === 'Never' || terminating)) return 'Failed';
  if (pendingInitialization > 0 || waiting > 0) {
    // A pod being deleted whose containers never ran ends Failed, not Pending.
    if (terminating && running === 0) return stopped > 0 && stopped === succeeded && waiting === 0 ? 'Succeeded' : 'Failed';
    return 'Pending';
  }
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always' && !terminating) return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never' || terminating) return 'Failed';
    return 'Running';
  }
  return terminating ? 'Failed' : 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: ok ? 'True' : 'False' } as PodCondition;
  if (!ok && reason) (c as { reason?: string }).reason = reason;
  if (!ok && message) (c as { message?: string }).message = message;
  return c;
}

const OWN_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod, views, terminating } = input;
  const spec = pod.spec;
  const initContainers = spec?.initContainers ?? [];
  const initStatuses = initContainers.map((c) => containerStatus(c, views.get(c.name), 'PodInitializing', true, terminating));
  const initDone = initStatuses.every((s, i) =>
    initContainers[i]?.restartPolicy === 'Always' ? !!s.state?.running && s.started : s.state?.terminated?.exitCode === 0,
  );
  const appStatuses = (spec?.containers ?? []).map((c) =>
    containerStatus(c, views.get(c.name), initDone ? 'ContainerCreating' : 'PodInitializing', false, terminating),
  );
  const phase = podPhase(pod, initStatuses, appStatuses, terminating);
  const completed = isTerminalPhase(phase);

  const sandboxReady = pod.spec?.hostNetwork ? isActive(input.sandbox) : isActive(input.sandbox) && !!input.sandbox?.ip;
  const unready = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const sidecarsUnready = initStatuses.filter((s, i) => initContainers[i]?.restartPolicy === 'Always' && !s.ready).map((s) => s.name);
  const allUnready = [...sidecarsUnready, ...unready];
  const incompleteInit = initStatuses.filter((s, i) => (initContainers[i]?.restartPolicy === 'Always' ? !s.started : s.state?.terminated?.exitCode !== 0)).map((s) => s.name);
  const containersReady = allUnready.length === 0 && !completed;
  const gatesOk = (spec?.readinessGates ?? []).every((g) => pod.status?.conditions?.find((c) => c.type === g.conditionType)?.status === 'True');
  const unreadyMessage = `containers with unready status: [${allUnready.join(' ')}]`;

  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady),
    completed && initDone
      ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' }
      : condition('Initialized', initDone, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    completed
      ? { type: 'Ready', status: 'False', reason: 'PodCompleted' }
      : !containersReady
        ? condition('Ready', false, 'ContainersNotReady', unreadyMessage)
        : condition('Ready', gatesOk, 'ReadinessGatesNotReady', 'the status of pod readiness gate is not "True"'),
    completed ? { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' } : condition('ContainersReady', containersReady, 'ContainersNotReady', unreadyMessage),
    condition('PodScheduled', true),
  ];
  // Keep each condition's lastTransitionTime while its status is unchanged; keep the conditions
  // other components own (PodScheduled as the scheduler wrote it, DisruptionTarget…).
  const existing = pod.status?.conditions ?? [];
  const merged = conditions.map((c) => {
    const old = existing.find((e) => e.type === c.type);
    if (c.type === 'PodScheduled' && old) return old;
    const lastTransitionTime = old && old.status === c.status ? (old.lastTransitionTime ?? input.now) : input.now;
    return { ...c, lastProbeTime: null, lastTransitionTime } as unknown as PodCondition;
  });
  for (const old of existing) if (!OWN_CONDITIONS.includes(old.type)) merged.push(old);

  const podIp = pod.spec?.hostNetwork ? input.hostIp : input.sandbox && isActive(input.sandbox) ? input.sandbox.ip : pod.status?.podIP;
  const status: PodStatus = {
    phase,
    conditions: merged,
    hostIP: input.hostIp,
    hostIPs: [{ ip: input.hostIp }],
    startTime: pod.status?.startTime ?? input.now,
    containerStatuses: appStatuses,
  };
  const mutable = status as Record<string, unknown>;
  if (podIp) {
    mutable['podIP'] = podIp;
    mutable['podIPs'] = [{ ip: podIp }];
  }
  if (initStatuses.length) mutable['initContainerStatuses'] = initStatuses;
  if (pod.status?.qosClass) mutable['qosClass'] = pod.status.qosClass;
  if (pod.status?.nominatedNodeName) mutable['nominatedNodeName'] = pod.status.nominatedNodeName;
  return status;
}

/**
 * The status to report: as the kubelet's status manager does (mergePodStatus), a pod is not
 * reported Succeeded or Failed while anything of it, its sandbox included, may still run; until
 * then it keeps the phase, reason and message it has in the API, so that whoever acts on the
 * terminal phase (a Job, a ReplicaSet replacing the pod, quota) finds it stopped.
 */
export function reportableStatus(status: PodStatus, inApi: PodStatus | undefined, mayStillRun: boolean): PodStatus {
  if (!mayStillRun || !isTerminalPhase(status.phase) || isTerminalPhase(inApi?.phase)) return status;
  return { ...status, phase: inApi?.phase ?? 'Pending', reason: inApi?.reason, message: inApi?.message };
}
