// Streams a watch: newline-delimited JSON events over a chunked 200 response
// (research/k8s-api.md §7). Errors after the stream started (410 Expired, a watcher that fell
// behind) are sent in-stream as an ERROR event carrying a Status, then the stream ends, as
// kube-apiserver does; `timeoutSeconds` and client disconnects end it cleanly.

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { internalError, StatusError } from '../../../api/errors.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/objects.js';
import type { ResponseFormat } from '../http.js';
import type { Registry, RegistryWatchEvent, WatchQuery } from '../registry/registry.js';
import { toTable } from '../tables/index.js';
import type { IncludeObject } from '../tables/index.js';
import { memoize } from '../watchcache.js';
import { partialMetadata } from './render.js';

export interface WatchStreamOptions {
  format: ResponseFormat;
  includeObject: IncludeObject;
  allowBookmarks: boolean;
  /** Ends the stream after this long (the client re-watches from its last version). */
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
  onEnd?: () => void;
}

/**
 * Bytes a watch may have waiting for its socket before it waits for the reader. Not the stream's
 * high-water mark (16 KiB): the events are corked until the end of the turn, so waiting for
 * 'drain' at 16 KiB let through one such slice per turn of the event loop. Under load (a turn of
 * tens of milliseconds) every watcher then fell seconds behind the store, however fast it read.
 * A reader that really stops still stops the stream here, and the watch cache ends it once its
 * queue is full.
 */
export const WATCH_WRITE_BUFFER = 1 << 20;

function bookmark(resource: ResourceType, rv: number, initialEventsEnd = false): string {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
  return `${JSON.stringify({ type: 'BOOKMARK', object: { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata } })}\n`;
}

function eventLine(resource: ResourceType, event: Exclude<RegistryWatchEvent, { type: 'INITIAL-EVENTS-END' }>, options: WatchStreamOptions): string {
  const { format } = options;
  const render = (object: unknown) => `${JSON.stringify({ type: event.type, object })}\n`;
  if (format.as === 'table') {
    return render(toTable(resource, [event.object as KubeObject], { includeObject: options.includeObject, listMeta: { resourceVersion: String(event.rv) } }));
  }
  if (format.as === 'partial') return render(partialMetadata(event.object));
  // The same bytes go to every plain watcher of this event: serialise once, from the stored text
  // when it can be spliced.
  if (event.source) {
    return memoize(event.source, `${resource.group}/${resource.plural}:${event.type}`, () => {
      const text = event.encoded?.();
      return text === undefined ? render(event.object) : `{"type":"${event.type}","object":${text}}\n`;
    });
  }
  return render(event.object);
}

export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  namespace: string | undefined,
  query: WatchQuery,
  options: WatchStreamOptions,
): Promise<void> {
  const resource = registry.resource;
  const abort = new AbortController();
  const stop = () => abort.abort();
  req.on('close', stop);
  res.on('close', stop);
  const timer = setTimeout(stop, options.timeoutSeconds * 1000);
  let lastRv = Number(query.resourceVersion ?? 0) || 0;
  let bookmarks: NodeJS.Timeout | undefined;

  res.writeHead(200, {
    'Content-Type': options.format.as === 'table' ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();

  // Events that arrive in one turn of the event loop (a burst of writes) leave in one write to
  // the socket, not one each: the response is corked at the first and uncorked once the turn's
  // I/O is handled, as kube-apiserver's watch server flushes only when no event is waiting.
  // A slow reader holds the stream back only once WATCH_WRITE_BUFFER bytes wait for it (see there).
  let corked = false;
  const uncork = () => {
    corked = false;
    if (!res.writableEnded) res.uncork();
  };
  const write = async (line: string): Promise<void> => {
    if (abort.signal.aborted) return;
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(uncork);
    }
    if (!res.write(line) && res.writableLength >= WATCH_WRITE_BUFFER) await once(res, 'drain', { signal: abort.signal }).catch(() => undefined);
  };

  if (options.allowBookmarks) {
    bookmarks = setInterval(() => {
      if (lastRv > 0 && !abort.signal.aborted) res.write(bookmark(resource, lastRv));
    }, options.bookmarkIntervalMs);
  }

  try {
    for await (const event of registry.watch(namespace, query, abort.signal)) {
      if (abort.signal.aborted) break;
      if (event.type === 'INITIAL-EVENTS-END') {
        lastRv = Math.max(lastRv, event.rv);
        if (options.allowBookmarks) await write(bookmark(resource, event.rv, true));
        continue;
      }
      lastRv = Math.max(lastRv, event.rv);
      await write(eventLine(resource, event, options));
    }
  } catch (err) {
    // A watcher that fell behind, or a restarted cache, just ends: the client re-watches from
    // the last version it saw (still in the window or the store's history). Anything else is
    // reported in-stream.
    const benign = err instanceof Error && (err.name === 'WatcherTooSlowError' || err.name === 'CacheRestartedError');
    if (!abort.signal.aborted && !benign) {
      const status = err instanceof StatusError ? err : internalError(err);
      res.write(`${JSON.stringify({ type: 'ERROR', object: status.toStatus() })}\n`);
    }
  } finally {
    clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    req.off('close', stop);
    res.off('close', stop);
    abort.abort();
    if (!res.writableEnded) res.end();
    options.onEnd?.();
  }
}
