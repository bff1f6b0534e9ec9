// `skiff server`'s control-plane flags: each reaches the configuration the server starts with,
// absent ones give Kubernetes' defaults (Skiff's own for leader election), and bad values are
// refused, before anything starts, with a message that names them and a non-zero exit.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { duration, serverCommand, serverConfig } from '../../cli/server.js';
import type { ServerFlags } from '../../cli/server.js';
import type { ControlPlaneConfig } from '../../controlplane/controlplane.js';
import { eventually } from '../helpers/cluster.js';
import { runSkiff } from '../helpers/skiff-process.js';

/**
 * The configuration `skiff server ARGS` would start: the real command's flags, parsers and
 * defaults, with an action that only records what serverConfig makes of them.
 */
async function configFor(args: readonly string[]): Promise<ControlPlaneConfig> {
  const program = new Command().exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  serverCommand(program);
  let config: ControlPlaneConfig | undefined;
  program.commands.find((c) => c.name() === 'server')!.action((flags: ServerFlags) => {
    config = serverConfig(flags);
  });
  await program.parseAsync(['server', '--data-dir', 'data', ...args], { from: 'user' });
  assert.ok(config, 'the action ran');
  return config;
}

function refusedFlag(message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof CommanderError, String(err));
    assert.equal(err.code, 'commander.invalidArgument');
    assert.match(err.message, message);
    return true;
  };
}

describe('skiff server flags → control-plane configuration', () => {
  test('absent flags give the defaults: node-monitor grace 50 s, tolerations 300 s, cluster CIDR 10.42.0.0/16, election 1.5 s / 1 s / 0.25 s', async () => {
    const config = await configFor([]);
    assert.deepEqual(config.controllerManager?.election, { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 250 });
    assert.deepEqual(config.controllerManager?.controllers, {
      clusterCidr: '10.42.0.0/16',
      nodeCidrMaskSize: 24,
      nodeMonitorGracePeriodMs: 50_000,
      nodeMonitorPeriodMs: 5_000,
    });
    assert.deepEqual(config.defaultTolerationSeconds, { notReady: 300, unreachable: 300 });
  });

  test('each flag reaches the configuration', async () => {
    const config = await configFor([
      '--leader-elect-lease-duration', '15s',
      '--leader-elect-renew-deadline=10s',
      '--leader-elect-retry-period', '2s',
      '--node-monitor-grace-period', '40s',
      '--default-not-ready-toleration-seconds', '60',
      '--default-unreachable-toleration-seconds', '0',
      '--cluster-cidr', '10.244.0.0/16',
    ]);
    assert.deepEqual(config.controllerManager?.election, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    assert.equal(config.controllerManager?.controllers?.nodeMonitorGracePeriodMs, 40_000);
    assert.equal(config.controllerManager?.controllers?.clusterCidr, '10.244.0.0/16');
    assert.deepEqual(config.defaultTolerationSeconds, { notReady: 60, unreachable: 0 });
    // One flag given, the others keep their defaults.
    assert.deepEqual((await configFor(['--leader-elect-renew-deadline', '500ms'])).controllerManager?.election, {
      leaseDurationMs: 1500,
      renewDeadlineMs: 500,
      retryPeriodMs: 250,
    });
  });

  test("durations are Go's: a number and a unit (ns to h), decimals and sums, a bare 0; anything else is refused, naming the flag", async () => {
    assert.deepEqual(
      ['250ms', '1.5s', '2m', '1h', '1m30s', '.5s', '1.s', '0', '0s', '1500us', '1500µs', '1500μs', '2000000ns', '1h0m0.5s'].map(duration),
      [250, 1500, 120_000, 3_600_000, 90_000, 500, 1000, 0, 0, 1.5, 1.5, 1.5, 2, 3_600_500],
    );
    assert.equal((await configFor(['--node-monitor-grace-period=1m30s'])).controllerManager?.controllers?.nodeMonitorGracePeriodMs, 90_000);
    // Kubernetes' flags would refuse these too (a bare number has no unit).
    for (const bad of ['15', 'fifty', '1 m', '-1s', '1.5.5s', '', '.s', '00', '1sec', '1S']) {
      await assert.rejects(
        configFor(['--leader-elect-lease-duration', bad]),
        refusedFlag(/option '--leader-elect-lease-duration <duration>' argument '.*' is invalid\. must be a duration such as 1\.5s, 250ms or 1m/),
        `--leader-elect-lease-duration ${JSON.stringify(bad)}`,
      );
    }
    // Number() would read '' as 0 (evict at once), '0x10' as 16 and '1e3' as 1000.
    for (const bad of ['1.5', '', '0x10', '1e3', ' 5', '-1']) {
      await assert.rejects(configFor(['--default-not-ready-toleration-seconds', bad]), refusedFlag(/argument '.*' is invalid\. must be a whole number/));
    }
  });
});

describe('skiff server refuses bad values', () => {
  const cases: { what: string; args: string[]; message: RegExp }[] = [
    {
      what: 'a renew deadline not below the lease duration',
      args: ['--leader-elect-lease-duration', '10s', '--leader-elect-renew-deadline', '10s'],
      message: /skiff: invalid leader election timings: leaseDuration must be greater than renewDeadline/,
    },
    {
      what: 'a retry period too long for the renew deadline',
      args: ['--leader-elect-retry-period', '900ms'],
      message: /skiff: invalid leader election timings: renewDeadline must be greater than retryPeriod × 1\.2/,
    },
    {
      what: 'a non-numeric duration',
      args: ['--node-monitor-grace-period', 'fifty'],
      message: /option '--node-monitor-grace-period <duration>' argument 'fifty' is invalid\. must be a duration such as 1\.5s, 250ms or 1m/,
    },
    {
      what: 'a zero node monitor period',
      args: ['--node-monitor-period', '0'],
      message: /skiff: invalid node monitor period 0 ms: must be greater than zero/,
    },
    {
      what: 'a malformed cluster CIDR',
      args: ['--cluster-cidr', '10.42.0/16'],
      message: /skiff: invalid cluster CIDR "10\.42\.0\/16"/,
    },
    {
      what: 'a non-numeric toleration',
      args: ['--default-unreachable-toleration-seconds', 'soon'],
      message: /option '--default-unreachable-toleration-seconds <n>' argument 'soon' is invalid\. must be a whole number/,
    },
  ];
  for (const { what, args, message } of cases) {
    test(`${what}: a message and a non-zero exit before anything starts`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'skiff-flags-'));
      const server = runSkiff(['server', '--data-dir', join(dir, 'data'), '--bind-address', '127.0.0.1', '--port', '0', ...args]);
      try {
        const code = await eventually(() => server.child.exitCode ?? undefined, 60_000, `skiff server ${args.join(' ')} to exit`);
        assert.notEqual(code, 0);
        assert.match(server.output(), message);
        // Refused before anything started: no data directory, certificates or store left behind.
        assert.equal(existsSync(join(dir, 'data')), false, 'the data directory was not created');
      } finally {
        await server.kill9();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
