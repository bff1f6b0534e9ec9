// The node's pressure signals, read cheaply from the kernel on every status update (no process
// spawns): available memory from /proc/meminfo, free space and inodes of the filesystem holding
// Docker's data (statfs), free process IDs (pid_max against the tasks in /proc/loadavg). They
// decide MemoryPressure, DiskPressure and PIDPressure against the eviction thresholds.

import { readFile, statfs } from 'node:fs/promises';
import type { EvictionThresholds } from '../config.js';

export interface PressureSignals {
  memoryAvailableBytes: number;
  nodefsAvailableRatio: number;
  nodefsInodesFreeRatio: number;
  pidAvailableRatio: number;
}

export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export function parseMemAvailable(meminfo: string): number {
  const match = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo);
  if (match) return Number(match[1]) * 1024;
  // Kernels before 3.14 lack MemAvailable: free plus page cache is the usual estimate.
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  return field('MemFree') + field('Cached') + field('Buffers');
}

/** Tasks (threads) in existence: the fourth field of /proc/loadavg is "running/total". */
export function parseTaskCount(loadavg: string): number {
  const match = /\s\d+\/(\d+)\s/.exec(loadavg);
  return match ? Number(match[1]) : 0;
}

export async function readPressureSignals(fsPath: string): Promise<PressureSignals> {
  const [meminfo, loadavg, pidMaxText, fs] = await Promise.all([
    readFile('/proc/meminfo', 'utf8'),
    readFile('/proc/loadavg', 'utf8'),
    readFile('/proc/sys/kernel/pid_max', 'utf8'),
    statfs(fsPath),
  ]);
  const pidMax = Number(pidMaxText.trim()) || 32768;
  return {
    memoryAvailableBytes: parseMemAvailable(meminfo),
    nodefsAvailableRatio: Number(fs.blocks) > 0 ? Number(fs.bavail) / Number(fs.blocks) : 1,
    nodefsInodesFreeRatio: Number(fs.files) > 0 ? Number(fs.ffree) / Number(fs.files) : 1,
    pidAvailableRatio: Math.max(0, pidMax - parseTaskCount(loadavg)) / pidMax,
  };
}

export function pressureFrom(signals: PressureSignals, thresholds: EvictionThresholds): Pressure {
  return {
    memory: signals.memoryAvailableBytes < thresholds.memoryAvailableBytes,
    disk: signals.nodefsAvailableRatio < thresholds.nodefsAvailableRatio || signals.nodefsInodesFreeRatio < thresholds.nodefsInodesFreeRatio,
    pid: signals.pidAvailableRatio < thresholds.pidAvailableRatio,
  };
}
