// Reads a watch stream the way client libraries do: one JSON event per line.

import { request } from 'undici';
import type { TestCluster } from './cluster.js';

export interface WatchStream {
  status: number;
  /** The next event, or undefined when the stream ended; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<any | undefined>;
  /** Events until `count` were read or `timeoutMs` passed. */
  take(count: number, timeoutMs?: number): Promise<any[]>;
  close(): void;
}

export async function openWatch(c: TestCluster, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const abort = new AbortController();
  const res = await request(`${c.url}${path}`, {
    method: 'GET',
    headers: { authorization: `Bearer ${c.controlPlane.adminToken}`, accept: 'application/json', ...headers },
    dispatcher: c.dispatcher,
    signal: abort.signal,
  });
  const queue: any[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  let buffered = '';
  void (async () => {
    try {
      for await (const chunk of res.body) {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) queue.push(JSON.parse(line));
        }
        wake?.();
      }
    } catch {
      // aborted
    } finally {
      ended = true;
      wake?.();
    }
  })();

  const next = async (timeoutMs = 5000): Promise<any | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      if (ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms on ${path}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return queue.shift();
  };

  return {
    status: res.statusCode,
    next,
    async take(count, timeoutMs = 5000) {
      const out: any[] = [];
      while (out.length < count) {
        const ev = await next(timeoutMs);
        if (ev === undefined) break;
        out.push(ev);
      }
      return out;
    },
    close() {
      abort.abort();
    },
  };
}
