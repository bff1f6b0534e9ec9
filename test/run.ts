// Runs every compiled test file (dist/test/**/*.test.js) under node's built-in test runner.
// `node dist/test/run.js store apiserver` runs only the files whose path contains one of the words.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testRoot = dirname(fileURLToPath(import.meta.url));

function findTests(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...findTests(path));
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
  return files.sort();
}

const filters = process.argv.slice(2);
const files = findTests(testRoot).filter(
  (f) => filters.length === 0 || filters.some((word) => relative(testRoot, f).includes(word)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = process.env.SKIFF_TEST_CONCURRENCY ?? '2';
// TAP as the tests run, then the failures gathered at the end (failures-reporter.ts), with stack
// frames in the TypeScript sources.
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${join(testRoot, 'failures-reporter.js')}`, '--test-reporter-destination=stdout'];
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
