// Reading what a client sent: the body of a create or update (decoded, its apiVersion and kind
// checked against the URL, field validation applied as ../fieldvalidation.ts says) and the
// dryRun parameter.

import type { IncomingMessage } from 'node:http';
import { badRequest } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { GroupVersionKind } from '../../../api/resources.js';
import { decodeBody, enforceFieldValidation, parseFieldValidation } from '../fieldvalidation.js';
import { readBodyBytes } from '../http.js';

export function dryRunParam(values: string[]): boolean {
  for (const v of values) {
    if (v !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  }
  return values.length > 0;
}
/** The body's apiVersion and kind must be the URL's; when absent they are taken from the URL. */
export function checkTypeMeta(gvk: GroupVersionKind, obj: KubeObject): void {
  const expected = apiVersionOf(gvk);
  if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expected;
  if (obj.kind === undefined || obj.kind === '') obj.kind = gvk.kind;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    throw badRequest(`the object provided is unrecognized (must be of type ${gvk.kind}): apiVersion and kind must be strings`);
  }
  if (obj.apiVersion !== expected) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
  }
  if (obj.kind !== gvk.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${gvk.kind}) of the URL`);
  }
}

/**
 * The object in a POST or PUT body: decoded (JSON, YAML or protobuf), `accept` given a look
 * before its apiVersion and kind are checked (e.g. to take an older version's form), then field
 * validation as the request's `fieldValidation` asks; its warnings are added to `warnings`.
 */
export async function readObject(
  req: IncomingMessage,
  gvk: GroupVersionKind,
  query: URLSearchParams,
  warnings: string[],
  optionsKind: 'CreateOptions' | 'UpdateOptions',
  accept?: (obj: KubeObject) => void,
): Promise<KubeObject> {
  const mode = parseFieldValidation(query.get('fieldValidation'), optionsKind);
  const decoded = decodeBody(gvk, await readBodyBytes(req), req.headers['content-type'], mode);
  const obj = decoded.obj as KubeObject;
  accept?.(obj);
  checkTypeMeta(gvk, obj);
  warnings.push(...enforceFieldValidation(gvk, obj, mode, decoded.strictErrors));
  return obj;
}
