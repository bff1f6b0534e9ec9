// A plain-HTTP proxy in front of a test cluster that keeps every request body kubectl sends, so
// that a test can decode the exact protobuf bytes the real client produced. kubectl reaches it
// with `--server=http://127.0.0.1:PORT`; client-go sends no bearer token over plain HTTP, so the
// proxy adds the admin's.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { TestCluster } from '../helpers/cluster.js';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Buffer;
  /** The status the cluster answered. */
  status: number;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  /** The requests with a body, optionally only those whose path starts with `prefix`. */
  writes(prefix?: string): RecordedRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'upgrade']);

export async function startRecordingProxy(cluster: TestCluster): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(name) && typeof value === 'string') headers[name] = value;
      }
      headers['authorization'] ??= `Bearer ${cluster.controlPlane.adminToken}`;
      const upstream = await request(`${cluster.url}${req.url ?? '/'}`, {
        method: req.method as 'GET',
        headers,
        body: body.length > 0 ? body : undefined,
        dispatcher: cluster.dispatcher,
      });
      const answer = Buffer.from(await upstream.body.arrayBuffer());
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body,
        status: upstream.statusCode,
      });
      const outHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) outHeaders[name] = value;
      }
      res.writeHead(upstream.statusCode, { ...outHeaders, 'content-length': answer.length });
      res.end(answer);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    writes: (prefix = '') => requests.filter((r) => r.body.length > 0 && r.path.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
