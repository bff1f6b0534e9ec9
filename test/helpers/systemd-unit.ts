// Reading Skiff's systemd unit files (systemd/*.service) as systemd does, for the tests that check
// them and for bench/agent.ts, which runs the agent with the environment its unit gives it.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The units are not compiled: found in the source tree whether this runs from test/ or dist/test/. */
const systemdDir = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../systemd/' : '../../../systemd/', import.meta.url));

/** Where unit `name` (e.g. `skiff-agent.service`) is. */
export function unitPath(name: string): string {
  return systemdDir + name;
}

export function readUnit(name: string): Promise<string> {
  return readFile(unitPath(name), 'utf8');
}

/** `Key=value` lines of a unit file's section, every value of each key in order (systemd keeps the last of single-valued keys). */
export function unitSettings(text: string, section: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    values.set(line.slice(0, eq), [...(values.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return values;
}

/**
 * The variables the [Service] section's `Environment=` lines set: space-separated assignments,
 * an assignment in double quotes may hold spaces (systemd.exec(5); the units use no escapes).
 */
export function unitEnvironment(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitSettings(text, 'Service').get('Environment') ?? []) {
    for (const [, quoted, bare] of line.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = quoted ?? bare!;
      const eq = assignment.indexOf('=');
      if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}
