// The Node object's status as the kubelet reports it (pkg/kubelet/nodestatus): capacity and
// allocatable (capacity minus the hard eviction thresholds), addresses, nodeInfo, images, the
// agent's endpoint, and the conditions MemoryPressure, DiskPressure, PIDPressure and Ready with
// the kubelet's reasons and messages. Pure, so that "did it change?" is a comparison.

import type { NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../config.js';
import { KUBELET_VERSION } from '../config.js';
import type { MachineInfo } from './machine.js';
import type { Pressure } from './pressure.js';

export interface NodeImage {
  names: string[];
  sizeBytes: number;
}

export interface NodeStatusInput {
  machine: MachineInfo;
  config: Pick<AgentConfig, 'nodeIp' | 'maxPods' | 'kubeletPort' | 'eviction'>;
  pressure: Pressure;
  /** Reasons the node is not ready (runtime down, no pod network); empty when ready. */
  notReady: string[];
  images: NodeImage[];
  existing?: NodeStatus;
  /** RFC 3339 (seconds). */
  now: string;
}

const MAX_IMAGES = 50;

function kibibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function nodeCapacity(machine: MachineInfo, maxPods: number): Record<string, string> {
  return {
    cpu: String(machine.cpuCores),
    memory: kibibytes(machine.memoryBytes),
    'ephemeral-storage': kibibytes(machine.ephemeralStorageBytes),
    pods: String(maxPods),
  };
}

/** Allocatable = capacity − hard eviction thresholds (no system/kube reservations in Skiff). */
export function nodeAllocatableBytes(machine: MachineInfo, config: NodeStatusInput['config']): { memory: number; ephemeralStorage: number } {
  return {
    memory: Math.max(0, machine.memoryBytes - config.eviction.memoryAvailableBytes),
    ephemeralStorage: Math.floor(machine.ephemeralStorageBytes * (1 - config.eviction.nodefsAvailableRatio)),
  };
}

interface ConditionText {
  type: string;
  bad: boolean;
  reason: [ok: string, bad: string];
  message: [ok: string, bad: string];
}

export function nodeConditions(input: Pick<NodeStatusInput, 'pressure' | 'notReady' | 'existing' | 'now'>): NodeCondition[] {
  const texts: ConditionText[] = [
    {
      type: 'MemoryPressure',
      bad: input.pressure.memory,
      reason: ['KubeletHasSufficientMemory', 'KubeletHasInsufficientMemory'],
      message: ['kubelet has sufficient memory available', 'kubelet has insufficient memory available'],
    },
    {
      type: 'DiskPressure',
      bad: input.pressure.disk,
      reason: ['KubeletHasNoDiskPressure', 'KubeletHasDiskPressure'],
      message: ['kubelet has no disk pressure', 'kubelet has disk pressure'],
    },
    {
      type: 'PIDPressure',
      bad: input.pressure.pid,
      reason: ['KubeletHasSufficientPID', 'KubeletHasInsufficientPID'],
      message: ['kubelet has sufficient PID available', 'kubelet has insufficient PID available'],
    },
  ];
  const conditions = texts.map((t) => ({
    type: t.type,
    status: t.bad ? 'True' : 'False',
    reason: t.bad ? t.reason[1] : t.reason[0],
    message: t.bad ? t.message[1] : t.message[0],
  }));
  const ready = input.notReady.length === 0;
  conditions.push({
    type: 'Ready',
    status: ready ? 'True' : 'False',
    reason: ready ? 'KubeletReady' : 'KubeletNotReady',
    message: ready ? 'kubelet is posting ready status' : input.notReady.join(', '),
  });
  return conditions.map((c) => {
    const old = input.existing?.conditions?.find((e) => e.type === c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : input.now;
    return { ...c, lastHeartbeatTime: input.now, lastTransitionTime } as NodeCondition;
  });
}

export function buildNodeStatus(input: NodeStatusInput): NodeStatus {
  const { machine, config } = input;
  const capacity = nodeCapacity(machine, config.maxPods);
  const allocatableBytes = nodeAllocatableBytes(machine, config);
  const images = [...input.images].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, MAX_IMAGES);
  return {
    capacity,
    allocatable: { ...capacity, memory: kibibytes(allocatableBytes.memory), 'ephemeral-storage': kibibytes(allocatableBytes.ephemeralStorage) },
    conditions: nodeConditions(input),
    addresses: [
      { type: 'InternalIP', address: config.nodeIp },
      { type: 'Hostname', address: machine.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: config.kubeletPort } },
    nodeInfo: {
      machineID: machine.machineID,
      systemUUID: machine.systemUUID,
      bootID: machine.bootID,
      kernelVersion: machine.kernelVersion,
      osImage: machine.osImage,
      containerRuntimeVersion: machine.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: machine.operatingSystem,
      architecture: machine.architecture,
    },
    images,
  };
}

/** The status without its heartbeat times: what decides whether a write is due before the report interval. */
export function statusSignature(status: NodeStatus | undefined): string {
  if (!status) return '';
  const conditions = (status.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  return JSON.stringify({ ...status, conditions });
}
