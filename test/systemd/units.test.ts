// The unit files in systemd/ pass `systemd-analyze verify` (unknown keys, bad values, a missing
// ExecStart binary are errors) and say what Skiff's services need. The units are checked inside a
// throw-away root holding a stub /usr/local/bin/skiff, so the machine's own units play no part.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUnit, unitEnvironment, unitPath, unitSettings as settings } from '../helpers/systemd-unit.js';

const UNITS = ['skiff-server.service', 'skiff-agent.service'];

function systemdAnalyze(): string {
  const found = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  assert.ok(
    found.status === 0 && path,
    'systemd-analyze is not installed: these tests verify the unit files with it (Debian package "systemd"); install it to run them',
  );
  return path;
}

function verify(root: string, units: string[]): { code: number; output: string } {
  const result = spawnSync(systemdAnalyze(), ['verify', '--man=no', '--recursive-errors=no', `--root=${root}`, ...units], { encoding: 'utf8' });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe('systemd units', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'skiff-systemd-'));
    await mkdir(join(root, 'usr/local/bin'), { recursive: true });
    await writeFile(join(root, 'usr/local/bin/skiff'), '#!/bin/sh\nexit 0\n');
    await chmod(join(root, 'usr/local/bin/skiff'), 0o755);
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    for (const unit of UNITS) await copyFile(unitPath(unit), join(root, 'etc/systemd/system', unit));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('pass systemd-analyze verify', () => {
    const result = verify(root, UNITS);
    assert.equal(result.code, 0, result.output);
    assert.equal(result.output.trim(), '', 'no warnings either');
  });

  test('a broken unit does not pass (the check can fail)', async () => {
    const text = await readUnit('skiff-agent.service');
    await writeFile(join(root, 'etc/systemd/system/broken.service'), text.replace('KillMode=control-group', 'KillMode=control-group\nKilMode=process'));
    const result = verify(root, ['broken.service']);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /Unknown key 'KilMode'/);
  });

  for (const unit of UNITS) {
    test(`${unit} restarts always, reads /etc/default/%N, and has room for many connections`, async () => {
      const service = settings(await readUnit(unit), 'Service');
      assert.deepEqual(service.get('Restart'), ['always']);
      assert.deepEqual(service.get('Type'), ['exec']);
      assert.ok(service.get('EnvironmentFile')?.includes('-/etc/default/%N'));
      assert.deepEqual(service.get('LimitNOFILE'), ['1048576']);
      assert.match(service.get('ExecStart')?.[0] ?? '', /^\/usr\/local\/bin\/skiff (server|agent) --data-dir \/var\/lib\/skiff\/\S+ \$SKIFF_(SERVER|AGENT)_ARGS$/);
    });
  }

  test("the agent's unit leaves pods alone when it stops: they are dockerd's children, so the whole unit cgroup may go", async () => {
    const unit = await readUnit('skiff-agent.service');
    const service = settings(unit, 'Service');
    assert.deepEqual(service.get('KillMode'), ['control-group']);
    assert.equal(service.get('Delegate'), undefined, 'the agent makes no cgroups of its own');
    const order = settings(unit, 'Unit');
    assert.match(order.get('After')?.join(' ') ?? '', /docker\.service/);
  });

  test("the agent's unit sets the memory settings bench/agent.ts measured it with", async () => {
    const env = unitEnvironment(await readUnit('skiff-agent.service'));
    assert.deepEqual(env, { NODE_OPTIONS: '--max-semi-space-size=1 --v8-pool-size=1', MALLOC_MMAP_THRESHOLD_: '131072' });
  });
});
