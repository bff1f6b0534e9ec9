import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AGENT_DEFAULTS } from '../../agent/config.js';
import type { MachineInfo } from '../../agent/node/machine.js';
import { goArch } from '../../agent/node/machine.js';
import { parseMemAvailable, parseTaskCount, pressureFrom } from '../../agent/node/pressure.js';
import { buildNodeStatus, statusSignature } from '../../agent/node/status.js';

const machine: MachineInfo = {
  hostname: 'host-a',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0',
  operatingSystem: 'linux',
  architecture: 'amd64',
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  containerRuntimeVersion: 'docker://20.10.24',
  dockerRootDir: '/var/lib/docker',
  cpuCores: 4,
  memoryBytes: 8 * 1024 ** 3,
  ephemeralStorageBytes: 100 * 1024 ** 3,
};

const config = { nodeIp: '192.168.1.10', maxPods: 110, kubeletPort: 10250, eviction: AGENT_DEFAULTS.eviction };
const calm = { memory: false, disk: false, pid: false };

describe('node status', () => {
  test('capacity, allocatable (minus hard eviction thresholds), addresses and nodeInfo', () => {
    const s = buildNodeStatus({ machine, config, pressure: calm, notReady: [], images: [], now: '2026-01-01T00:00:00Z' });
    assert.deepEqual(s.capacity, { cpu: '4', memory: '8388608Ki', 'ephemeral-storage': '104857600Ki', pods: '110' });
    assert.equal(s.allocatable?.memory, `${8388608 - 102400}Ki`);
    assert.equal(s.allocatable?.['ephemeral-storage'], `${Math.floor((100 * 1024 ** 3 * 0.9) / 1024)}Ki`);
    assert.deepEqual(s.addresses, [
      { type: 'InternalIP', address: '192.168.1.10' },
      { type: 'Hostname', address: 'host-a' },
    ]);
    assert.equal(s.nodeInfo?.kubeletVersion, 'v1.32.0-skiff');
    assert.equal(s.nodeInfo?.containerRuntimeVersion, 'docker://20.10.24');
    assert.equal(s.nodeInfo?.architecture, 'amd64');
    assert.equal(s.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
  });

  test("conditions carry the kubelet's reasons; Ready False says why", () => {
    const ok = buildNodeStatus({ machine, config, pressure: calm, notReady: [], images: [], now: 't1' });
    assert.deepEqual(
      ok.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ],
    );
    const bad = buildNodeStatus({ machine, config, pressure: { memory: true, disk: true, pid: false }, notReady: ['container runtime is down'], images: [], existing: ok, now: 't2' });
    const byType = Object.fromEntries(bad.conditions!.map((c) => [c.type, c]));
    assert.equal(byType['MemoryPressure']?.reason, 'KubeletHasInsufficientMemory');
    assert.equal(byType['DiskPressure']?.status, 'True');
    assert.equal(byType['Ready']?.message, 'container runtime is down');
    assert.equal(byType['Ready']?.lastTransitionTime, 't2');
    assert.equal(byType['PIDPressure']?.lastTransitionTime, 't1', 'unchanged conditions keep their transition time');
    assert.equal(byType['PIDPressure']?.lastHeartbeatTime, 't2');
  });

  test('heartbeat times alone do not make a status different', () => {
    const a = buildNodeStatus({ machine, config, pressure: calm, notReady: [], images: [], now: 't1' });
    const b = buildNodeStatus({ machine, config, pressure: calm, notReady: [], images: [], existing: a, now: 't2' });
    assert.equal(statusSignature(a), statusSignature(b));
    const c = buildNodeStatus({ machine, config, pressure: { ...calm, disk: true }, notReady: [], images: [], existing: a, now: 't3' });
    assert.notEqual(statusSignature(a), statusSignature(c));
  });

  test('pressure from kernel signals against the eviction thresholds', () => {
    assert.equal(parseMemAvailable('MemTotal: 100 kB\nMemAvailable:   2048 kB\n'), 2048 * 1024);
    assert.equal(parseMemAvailable('MemFree: 10 kB\nBuffers: 1 kB\nCached: 5 kB\n'), 16 * 1024);
    assert.equal(parseTaskCount('0.00 0.01 0.05 3/208 4567\n'), 208);
    const t = AGENT_DEFAULTS.eviction;
    assert.deepEqual(pressureFrom({ memoryAvailableBytes: 50 * 1024 ** 2, nodefsAvailableRatio: 0.5, nodefsInodesFreeRatio: 0.5, pidAvailableRatio: 0.9 }, t), { memory: true, disk: false, pid: false });
    assert.deepEqual(pressureFrom({ memoryAvailableBytes: 1024 ** 3, nodefsAvailableRatio: 0.05, nodefsInodesFreeRatio: 0.5, pidAvailableRatio: 0.05 }, t), { memory: false, disk: true, pid: true });
    assert.deepEqual(pressureFrom({ memoryAvailableBytes: 1024 ** 3, nodefsAvailableRatio: 0.5, nodefsInodesFreeRatio: 0.01, pidAvailableRatio: 0.5 }, t).disk, true);
  });

  test('architectures as Go names them', () => {
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
  });
});
