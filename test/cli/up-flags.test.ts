// `skiff up` takes the cluster's flags of `skiff server` (service and cluster CIDRs, node
// monitoring, default tolerations, leader election) with the same parsers and defaults, so that
// the one-host cluster can be set up as a server can; its agent gives pods the cluster DNS
// address of the service range the flags choose.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { AGENT_DEFAULTS } from '../../agent/config.js';
import { serverCommand, serverConfig } from '../../cli/server.js';
import type { ServerFlags } from '../../cli/server.js';
import { upClusterDns, upCommand, upControlPlaneConfig } from '../../cli/up.js';
import type { UpFlags } from '../../cli/up.js';

const NODE_IP = '192.0.2.7';

function program(): Command {
  const p = new Command().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  serverCommand(p);
  upCommand(p);
  return p;
}

/** What `skiff up ARGS` would start, without starting it. */
async function upFor(args: readonly string[]) {
  const p = program();
  let got: { config: ReturnType<typeof upControlPlaneConfig>; clusterDns: string[] } | undefined;
  p.commands.find((c) => c.name() === 'up')!.action((flags: UpFlags) => {
    got = { config: upControlPlaneConfig(flags, NODE_IP), clusterDns: upClusterDns(flags) };
  });
  await p.parseAsync(['up', '--data-dir', 'data', ...args], { from: 'user' });
  assert.ok(got, 'the action ran');
  return got;
}

async function serverFor(args: readonly string[]) {
  const p = program();
  let config: ReturnType<typeof serverConfig> | undefined;
  p.commands.find((c) => c.name() === 'server')!.action((flags: ServerFlags) => {
    config = serverConfig(flags);
  });
  await p.parseAsync(['server', '--data-dir', 'data', ...args], { from: 'user' });
  assert.ok(config, 'the action ran');
  return config;
}

describe('skiff up flags', () => {
  test('without flags: the server defaults, advertised at the node address, and the agent default DNS address', async () => {
    const { config, clusterDns } = await upFor([]);
    const { advertiseAddress, ...rest } = config;
    const { advertiseAddress: serverAdvertises, ...server } = await serverFor([]);
    assert.equal(advertiseAddress, NODE_IP, 'pods reach the API at the node address');
    assert.equal(serverAdvertises, undefined);
    assert.deepEqual(rest, server);
    assert.equal(config.serviceCidr, '10.43.0.0/16');
    assert.equal(config.controllerManager?.controllers?.clusterCidr, '10.42.0.0/16');
    assert.deepEqual(clusterDns, AGENT_DEFAULTS.clusterDns);
  });

  test('the cluster flags reach the control plane as they do for skiff server; the DNS address follows the service range', async () => {
    const args = [
      '--service-cidr', '10.96.0.0/16',
      '--cluster-cidr', '10.244.0.0/16',
      '--node-monitor-grace-period', '40s',
      '--default-unreachable-toleration-seconds', '60',
      '--leader-elect-lease-duration', '15s',
      '--leader-elect-renew-deadline', '10s',
      '--leader-elect-retry-period', '2s',
    ];
    const { config, clusterDns } = await upFor([...args, '--bind-address', '127.0.0.1']);
    const server = await serverFor([...args, '--bind-address', '127.0.0.1']);
    assert.equal(config.advertiseAddress, '127.0.0.1');
    assert.deepEqual({ ...config, advertiseAddress: undefined }, server);
    assert.equal(config.serviceCidr, '10.96.0.0/16');
    assert.equal(config.controllerManager?.controllers?.clusterCidr, '10.244.0.0/16');
    assert.equal(config.controllerManager?.controllers?.nodeMonitorGracePeriodMs, 40_000);
    assert.deepEqual(config.defaultTolerationSeconds, { notReady: 300, unreachable: 60 });
    assert.deepEqual(config.controllerManager?.election, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    assert.deepEqual(clusterDns, ['10.96.0.10']);
  });

  test('both commands offer the same cluster flags, and refuse bad values alike', async () => {
    const flagsOf = (name: string) => new Set(program().commands.find((c) => c.name() === name)!.options.map((o) => o.long));
    const server = flagsOf('server');
    const up = flagsOf('up');
    const serverOnly = [...server].filter((f) => !up.has(f)).sort();
    assert.deepEqual(serverOnly, ['--advertise-address', '--disable-controller-manager']);
    for (const command of ['server', 'up']) {
      await assert.rejects(program().parseAsync([command, '--data-dir', 'd', '--node-monitor-grace-period', 'fifty'], { from: 'user' }), (err) => {
        assert.ok(err instanceof CommanderError && err.code === 'commander.invalidArgument', String(err));
        return true;
      });
    }
  });
});
