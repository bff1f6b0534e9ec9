// The agent loads only the parts of undici and systeminformation that it uses (api/undici-core.ts,
// agent/node/systeminfo.ts): their indexes would keep megabytes of code it never runs in its heap.
// Each test file runs in its own process, so the module cache shows what was loaded.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Agent } from '../../api/undici-core.js';
import { osInfo, system } from '../../agent/node/systeminfo.js';

const require = createRequire(import.meta.url);
const loaded = (id: string): boolean => require.resolve(id) in require.cache;

test("undici's dispatchers work without undici's index", async () => {
  assert.equal(loaded('undici'), false);
  assert.equal(loaded('undici/lib/dispatcher/agent.js'), true);
  const agent = new Agent();
  try {
    assert.equal(typeof agent.request, 'function', 'the request API is attached to the dispatchers');
  } finally {
    await agent.close();
  }
});

test("systeminformation's osInfo and system work without its index", async () => {
  assert.equal(loaded('systeminformation'), false);
  const [os, sys] = await Promise.all([osInfo(), system()]);
  assert.equal(os.platform, 'linux');
  assert.ok(os.distro, 'the distribution is read');
  assert.equal(typeof sys.uuid, 'string');
  assert.equal(loaded('systeminformation'), false, 'the calls load nothing more of it');
});
