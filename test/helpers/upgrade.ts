// An upgrade request that is expected to be refused (kubectl's SPDY fallback, a WebSocket
// handshake a client library will not send): the answer's status and body; rejects if the
// server switched protocols.

import { request } from 'node:https';
import type { RequestOptions } from 'node:https';

export function refusedUpgrade(url: string, options: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`${url}: the server switched protocols`));
    });
    req.on('error', reject);
    req.end();
  });
}
