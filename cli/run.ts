// Helpers shared by the subcommands: flag parsers and the run-until-signalled loop.

import { InvalidArgumentError } from 'commander';

/**
 * A number written as decimal digits (with a fraction when `fraction`), else `must be <what>`.
 * Number() alone would also take '' (as 0), '0x10', '1e3' and ' 5'.
 */
export function decimal(value: string, what: string, fraction = false): number {
  if (!(fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(value)) throw new InvalidArgumentError(`must be ${what}`);
  return Number(value);
}

export function port(value: string): number {
  const n = decimal(value, 'a port number (0-65535)');
  if (n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** Runs `start`, then waits for SIGINT/SIGTERM and closes what it started. */
export async function runUntilSignal(start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  const running = await start();
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
}

