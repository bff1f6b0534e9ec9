// HTTP plumbing for the API server: reading bodies with a size limit, decoding JSON, YAML or protobuf,
// content negotiation (JSON, YAML, and the Table/PartialObjectMetadata "as" forms kubectl asks
// for), and writing objects and Status errors.

import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { badRequest, isStatus, notAcceptable, requestEntityTooLarge, unsupportedMediaType } from '../../api/errors.js';
import type { Status , StatusError} from '../../api/errors.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './protobuf.js';

/** kube-apiserver refuses request bodies over 3 MiB (`maxRequestBodyBytes`). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_REQUEST_BODY_BYTES): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

/**
 * The raw request body: protobuf bodies are bytes, not text. Read with 'data'/'end' listeners
 * rather than the stream's async iterator, which costs a generator and end-of-stream tracking
 * per request on the API's hottest path.
 */
export function readBodyBytes(req: IncomingMessage, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  const tooLarge = () => requestEntityTooLarge(`Request entity too large: limit is ${limit}`);
  if (Number(req.headers['content-length'] ?? NaN) > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        req.resume(); // drain what is left, so the connection can be reused
        reject(err);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) => finish(err);
    const onClose = () => finish(new Error('the client closed the request before its body was complete'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const YAML_MEDIA_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);

export function isYamlMediaType(media: string): boolean {
  return YAML_MEDIA_TYPES.has(media);
}

/**
 * Decodes a request body sent as JSON (the default), YAML or Kubernetes protobuf (which needs
 * the body as bytes). The result must be a JSON object; anything else is a 400 like
 * kube-apiserver's decoder errors.
 */
export function decodeObject(input: string | Buffer, contentType: string | undefined, expectedKind: string): Record<string, unknown> {
  const media = mediaTypeOf(contentType);
  if (media === PROTOBUF_MEDIA_TYPE) {
    return decodeProtobufObject(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, expectedKind);
  }
  const body = typeof input === 'string' ? input : input.toString('utf8');
  let value: unknown;
  if (media === '' || media === 'application/json' || media === '*/*') {
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${expectedKind}): couldn't get version/kind; json parse error: ${(err as Error).message}`,
      );
    }
  } else if (isYamlMediaType(media)) {
    try {
      // A repeated key is no syntax error to kube-apiserver: its decoder keeps the last one,
      // and field validation decides about the repeat (fieldvalidation.ts decodeBody).
      const docs = YAML.parseAllDocuments(body, { uniqueKeys: false });
      if (docs.length !== 1) throw new Error(`expected exactly one YAML document, found ${docs.length}`);
      const doc = docs[0]!;
      if (doc.errors.length > 0) throw doc.errors[0]!;
      value = doc.toJS();
    } catch (err) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${expectedKind}): yaml parse error: ${(err as Error).message}`,
      );
    }
  } else {
    throw unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_MEDIA_TYPE}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${expectedKind}): the body must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Content negotiation

export type ResponseFormat =
  | { as: 'object'; media: 'json' | 'yaml' }
  | { as: 'table'; media: 'json' }
  | { as: 'partial'; media: 'json' };

interface AcceptEntry {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string | undefined): AcceptEntry[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...rawParams] = part.split(';');
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    return { type: type!.trim().toLowerCase(), params };
  });
}

/** Whether the client wants the object itself as JSON (no Table, no partial metadata, no YAML). */
export function isPlainJson(format: ResponseFormat): boolean {
  return format.as === 'object' && format.media === 'json';
}

/**
 * Picks the first Accept entry Skiff can serve, in the client's order. `application/json;as=Table`
 * (g=meta.k8s.io, v=v1 or v1beta1) asks for a server-side Table; `as=PartialObjectMetadata(List)`
 * for metadata only. Protobuf is never served; clients always list JSON after it.
 */
export function negotiate(header: string | undefined, options: { tableAllowed: boolean }): ResponseFormat {
  for (const entry of parseAccept(header)) {
    const as = entry.params['as'];
    const isJson = entry.type === 'application/json' || entry.type === 'application/*' || entry.type === '*/*';
    if (as !== undefined) {
      if (entry.type !== 'application/json' || entry.params['g'] !== 'meta.k8s.io') continue;
      const v = entry.params['v'];
      if (v !== 'v1' && v !== 'v1beta1') continue;
      if (as === 'Table' && options.tableAllowed) return { as: 'table', media: 'json' };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'partial', media: 'json' };
      continue;
    }
    if (isJson) return { as: 'object', media: 'json' };
    if (entry.type === 'application/yaml') return { as: 'object', media: 'yaml' };
  }
  throw notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}

// ---------------------------------------------------------------------------------------------
// Responses

export function sendText(res: ServerResponse, code: number, contentType: string, body: string | Buffer): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A body that is JSON text already (sent as it is). */
export class EncodedJson {
  constructor(readonly text: string) {}
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendText(res, code, contentType, body instanceof EncodedJson ? body.text : JSON.stringify(body));
}

export function sendObject(res: ServerResponse, code: number, body: unknown, format: ResponseFormat): void {
  if (format.media === 'yaml') sendText(res, code, 'application/yaml', YAML.stringify(body));
  else if (format.as === 'table') sendJson(res, code, body, 'application/json;as=Table;v=v1;g=meta.k8s.io');
  else sendJson(res, code, body);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}

export function sendError(res: ServerResponse, err: StatusError): void {
  sendStatus(res, err.toStatus());
}

/** True for a value that is a Status the caller should send as an error. */
export function isFailureStatus(value: unknown): value is Status {
  return isStatus(value) && value.status === 'Failure';
}

export function addWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (warnings.length === 0) return;
  // RFC 7234 warn-code 299 ("miscellaneous persistent warning"), as kube-apiserver sends them.
  res.setHeader(
    'Warning',
    warnings.map((w) => (w.startsWith('299 ') ? w : `299 - ${JSON.stringify(w)}`)),
  );
}
