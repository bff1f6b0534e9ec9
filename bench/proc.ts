// What /proc says about a process: CPU time, resident and private memory. The benchmarks report
// these beside their timings, because on a 2-core machine a timing means little without knowing
// who had the cores.

import { readFile, readdir } from 'node:fs/promises';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux we run on). */
export const CLK_TCK = 100;

/** CPU seconds (user + system) a process, or one of its threads, has used so far. */
export async function cpuSeconds(pid: number, tid?: number): Promise<number> {
  const stat = await readFile(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Private (anonymous) memory: RSS without the node binary's code pages, which every Node process shares. */
export async function anonymousBytes(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
}

export async function pidsOf(name: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === name) out.push(Number(entry));
  }
  return out;
}
