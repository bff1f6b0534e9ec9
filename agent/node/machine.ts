// What the node is, read once at start: its OS, kernel, architecture and identifiers
// (systeminformation, which spawns commands: fine once, never on a timer), its capacity (CPUs,
// memory, the filesystem holding Docker's data) and the Docker version. The kubelet reports the
// same in status.nodeInfo and status.capacity.

import { statfs, readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Engine } from '../runtime/engine.js';
import { osInfo as readOsInfo, system as readSystem } from './systeminfo.js';

export interface MachineInfo {
  hostname: string;
  osImage: string;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  containerRuntimeVersion: string;
  /** Where Docker keeps images and containers (nodefs/imagefs for DiskPressure). */
  dockerRootDir: string;
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

async function readTrimmed(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return '';
  }
}

/** Go's GOARCH names, which Kubernetes uses for kubernetes.io/arch. */
export function goArch(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch] ?? arch;
}

export async function readMachineInfo(engine: Engine, dataDir: string): Promise<MachineInfo> {
  const [osInfo, system, docker] = await Promise.all([
    readOsInfo(),
    readSystem().catch(() => ({ uuid: '' })),
    engine.call('info', (d) => d.info() as Promise<{ ServerVersion?: string; DockerRootDir?: string }>),
  ]);
  const dockerRootDir = docker.DockerRootDir ?? '/var/lib/docker';
  // A remote engine's root is not on this machine: measure the agent's data dir instead.
  const fs = await statfs(dockerRootDir).catch(() => statfs(dataDir));
  const machineID = (await readTrimmed('/etc/machine-id')) || (await readTrimmed('/var/lib/dbus/machine-id'));
  const osImage = [osInfo.distro, osInfo.release, osInfo.codename ? `(${osInfo.codename})` : ''].filter(Boolean).join(' ');
  return {
    hostname: os.hostname(),
    osImage: osImage || `${os.type()} ${os.release()}`,
    kernelVersion: os.release(),
    operatingSystem: os.platform(),
    architecture: goArch(),
    machineID,
    systemUUID: system.uuid || (await readTrimmed('/sys/class/dmi/id/product_uuid')) || machineID,
    bootID: await readTrimmed('/proc/sys/kernel/random/boot_id'),
    containerRuntimeVersion: `docker://${docker.ServerVersion ?? 'unknown'}`,
    dockerRootDir,
    cpuCores: os.cpus().length,
    memoryBytes: os.totalmem(),
    ephemeralStorageBytes: Number(fs.blocks) * Number(fs.bsize),
  };
}
