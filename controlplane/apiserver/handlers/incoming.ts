// Checks of what a client sent that are not about the object's fields (those are in
// ../fieldvalidation.ts): the dryRun parameter, and the body's apiVersion and kind against the URL.

import { badRequest } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { GroupVersionKind } from '../../../api/resources.js';

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
