// The node's own resource use, read from the kernel rather than through systeminformation (whose
// CPU load spawns a shell on the event loop): CPU time from os.cpus() (libuv reads /proc/stat),
// memory from /proc/meminfo, and the agent's filesystem from statfs. CPU use is a rate, so the
// sampler keeps the last two samples and reports the average over the interval between them.

import { readFile, statfs } from 'node:fs/promises';
import { cpus } from 'node:os';

export interface CpuSample {
  at: Date;
  /** Busy CPU time since boot, in nanoseconds (user + nice + system + irq over every CPU). */
  busyNanos: number;
}

export interface MemoryUsage {
  capacityBytes: number;
  availableBytes: number;
  /** What is in use and cannot be reclaimed at once; kubelet's node working set, approximated as MemTotal - MemAvailable. */
  workingSetBytes: number;
  /** MemTotal - MemFree. */
  usageBytes: number;
}

export interface FilesystemUsage {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
}

export interface NodeCpuUsage {
  at: Date;
  windowSeconds: number;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}

export function sampleCpu(): CpuSample {
  let busyMs = 0;
  for (const cpu of cpus()) busyMs += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return { at: new Date(), busyNanos: busyMs * 1e6 };
}

/** Values of /proc/meminfo in bytes (the file states kB, which are KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) values.set(match[1]!, Number(match[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return values;
}

export async function readMemory(): Promise<MemoryUsage> {
  const info = parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
  const total = info.get('MemTotal') ?? 0;
  const available = info.get('MemAvailable') ?? info.get('MemFree') ?? 0;
  const free = info.get('MemFree') ?? 0;
  return { capacityBytes: total, availableBytes: available, workingSetBytes: Math.max(0, total - available), usageBytes: Math.max(0, total - free) };
}

export async function readFilesystem(path: string): Promise<FilesystemUsage> {
  const fs = await statfs(path);
  const capacityBytes = fs.blocks * fs.bsize;
  const availableBytes = fs.bavail * fs.bsize;
  return { capacityBytes, availableBytes, usedBytes: capacityBytes - fs.bfree * fs.bsize };
}

/** Samples CPU time on a timer (first after `firstAfterMs`, then every `intervalMs`) and reports the latest rate. */
export class NodeCpuSampler {
  private previous: CpuSample;
  private latest: NodeCpuUsage | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs = 10_000,
    firstAfterMs = Math.min(1_000, intervalMs),
  ) {
    this.previous = sampleCpu();
    this.timer = setTimeout(() => this.tick(), firstAfterMs);
    this.timer.unref();
  }

  private tick(): void {
    const current = sampleCpu();
    const seconds = (current.at.getTime() - this.previous.at.getTime()) / 1000;
    if (seconds > 0) {
      this.latest = {
        at: current.at,
        windowSeconds: seconds,
        usageNanoCores: Math.max(0, (current.busyNanos - this.previous.busyNanos) / seconds),
        usageCoreNanoSeconds: current.busyNanos,
      };
    }
    this.previous = current;
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** The CPU use over the last sampling window; undefined until the first window has passed. */
  get usage(): NodeCpuUsage | undefined {
    return this.latest;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
