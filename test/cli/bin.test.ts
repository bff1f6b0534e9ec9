// The `skiff` command as npm installs it: package.json's bin is the built CLI, executable by
// itself (its shebang and mode), so that `npx skiff …` runs it however npx links it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the bin is built executable and answers --help', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(root, pkg.bin['skiff']!);
  assert.match(readFileSync(bin, 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/);
  accessSync(bin, constants.X_OK);
  const { stdout } = await promisify(execFile)(bin, ['--help']);
  assert.match(stdout, /Usage: skiff/);
  for (const command of ['server', 'agent', 'up']) assert.match(stdout, new RegExp(`\\b${command}\\b`));
});
