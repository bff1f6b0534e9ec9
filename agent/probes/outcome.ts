// What one probe run found: success, failure (the check ran and said no), or error (the check
// could not run: a missing port, an unsupported handler). The kubelet treats an error as a
// failure but words its event differently ("probe errored" vs "probe failed").

import type { Container } from 'kubernetes-types/core/v1.js';

export type ProbeOutcome = { result: 'success'; output?: string } | { result: 'failure'; output: string } | { result: 'error'; output: string };

export class ProbeSetupError extends Error {
  override readonly name = 'ProbeSetupError';
}

/** A probe's port: a number, or the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, container: Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined || port === '') throw new ProbeSetupError(`container ${container.name}: probe names no port`);
  if (/^\d+$/.test(port)) return Number(port);
  const found = (container.ports ?? []).find((p) => p.name === port);
  if (!found) throw new ProbeSetupError(`port "${port}" not found in container ${container.name}`);
  return found.containerPort;
}
