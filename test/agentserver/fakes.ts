// Stand-ins for the pod runtime's ContainerLogSource and ResourceUsageSource, so that the agent's
// endpoint and the API server's pods/log and metrics.k8s.io can be tested without Docker.

import { Readable } from 'node:stream';
import { badRequest, notFound } from '../../api/errors.js';
import type { ContainerLogOptions, ContainerLogSource, PodUsage, ResourceUsageSource } from '../../agent/interfaces.js';

export interface LogCall {
  namespace: string;
  pod: string;
  container: string;
  options: ContainerLogOptions;
  signal: AbortSignal;
}

/**
 * Logs of pod `p`, container `c` are the lines `<c> line 1`, `<c> line 2`; with follow, a new
 * line every 20 ms until the signal aborts. Pod `missing` is not found; pod `waiting` has not
 * started.
 */
export class FakeLogSource implements ContainerLogSource {
  readonly calls: LogCall[] = [];

  async logs(namespace: string, pod: string, container: string, options: ContainerLogOptions, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    this.calls.push({ namespace, pod, container, options, signal });
    if (pod === 'missing') throw notFound({ group: '', resource: 'pods' }, pod);
    if (pod === 'waiting') throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
    const lines = [`${container} line 1\n`, `${container} line 2\n`];
    if (!options.follow) return Readable.from(lines);
    let n = 2;
    const stream = new Readable({ read() {} });
    for (const line of lines) stream.push(line);
    const timer = setInterval(() => stream.push(`${container} line ${++n}\n`), 20);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      stream.push(null);
    }, { once: true });
    return stream;
  }
}

export class FakeUsageSource implements ResourceUsageSource {
  constructor(public pods: PodUsage[] = []) {}

  async podUsage(): Promise<PodUsage[]> {
    return this.pods;
  }
}
