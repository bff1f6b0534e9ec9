// The two parts of systeminformation the agent uses (osInfo and system), without the rest. Its
// index requires all of its ~50 modules (776 KB of source) at once, and a Node process keeps every
// loaded module's source and code for its whole life, though the agent asks once, at start.
// Measured alone, after both calls and a full GC: 1.0 MB less heap and 8 MB less RSS than the
// index (4.65 against 3.71 MB heap), which counts against the agent's memory target
// (bench/agent.ts).
//
// The files are systeminformation's own (its version is locked in package-lock.json). If a future
// version moves them, the require fails and the whole index is loaded instead.

import { createRequire } from 'node:module';
import type * as SystemInformation from 'systeminformation';

type Parts = Pick<typeof SystemInformation, 'osInfo' | 'system'>;

const require = createRequire(import.meta.url);

function load(): Parts {
  try {
    const { osInfo } = require('systeminformation/lib/osinfo.js') as Partial<Parts>;
    const { system } = require('systeminformation/lib/system.js') as Partial<Parts>;
    if (typeof osInfo !== 'function' || typeof system !== 'function') throw new Error('unexpected systeminformation layout');
    return { osInfo, system };
  } catch {
    return require('systeminformation') as Parts;
  }
}

export const { osInfo, system } = load();
