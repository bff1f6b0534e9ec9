// tcpSocket probes: success when a TCP connection opens (an immediate close still counts).

import { connect } from 'node:net';
import type { Container, TCPSocketAction } from 'kubernetes-types/core/v1.js';
import type { ProbeOutcome } from './outcome.js';
import { resolvePort } from './outcome.js';

export function tcpProbe(action: TCPSocketAction, container: Container, podIp: string, timeoutMs: number): Promise<ProbeOutcome> {
  const host = action.host || podIp;
  const port = resolvePort(action.port, container);
  const address = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ result: 'failure', output: `dial tcp ${address}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'success' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
      resolve({ result: 'failure', output: `dial tcp ${address}: ${why}` });
    });
  });
}
