// PATCH bodies: picks the patch format from the Content-Type and applies it to the live object,
// answering malformed and failing patches as kube-apiserver does
// (apiserver pkg/endpoints/handlers/patch.go).

import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import jsonMergePatch from 'json-merge-patch';
import { StatusError, badRequest, internalError, requestEntityTooLarge, unsupportedMediaType } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/objects.js';
import type { GroupVersionKind } from '../../../api/resources.js';
import { definitionNameOfKind } from '../../../api/schema/definitions.js';
import { StrategicMergePatchError, strategicMergePatch, type JsonObject, type JsonValue } from './strategic.js';
import { deepCopy } from '../../../api/objects.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH_YAML = 'application/apply-patch+yaml';
export const APPLY_PATCH_CBOR = 'application/apply-patch+cbor';

/** The patch types Skiff accepts, in the order the 415 message lists them. */
export const SUPPORTED_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH] as const;

/** kube-apiserver refuses JSON patches with more operations than this (413). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Applies a PATCH request body to `current` and returns the patched object. `current` is not
 * modified. Throws a StatusError for an unsupported type or a patch that cannot be applied.
 */
export function applyPatch(contentType: string, gvk: GroupVersionKind, current: KubeObject, patchBody: string): KubeObject {
  // Kubernetes ignores parameters such as `; charset=utf-8`.
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  switch (mediaType) {
    case JSON_PATCH:
      return applyJsonPatch(current, patchBody);
    case MERGE_PATCH:
      return applyMergePatch(current, patchBody);
    case STRATEGIC_MERGE_PATCH:
      return applyStrategicMergePatch(gvk, current, patchBody);
    case APPLY_PATCH_YAML:
    case APPLY_PATCH_CBOR:
      throw unsupportedMediaType(
        `server-side apply (${mediaType}) is not supported by Skiff yet; use client-side apply ` +
          '(`kubectl apply` without --server-side), or one of the supported patch types: ' +
          SUPPORTED_PATCH_TYPES.join(', '),
      );
    default:
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: ${SUPPORTED_PATCH_TYPES.join(', ')}`,
      );
  }
}

/** 422 with the message kube-apiserver gives when a JSON patch operation fails (it keeps the
 * operation's own error out of the response; `NewGenericServerResponse(422, …)`). */
function patchRejected(): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
}

function parseJson(body: string): { value: JsonValue } | { error: string } {
  try {
    return { value: JSON.parse(body) as JsonValue };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function describeJsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 6902. A body that is not a list of operations is 400; an operation that fails is 422. */
function applyJsonPatch(current: KubeObject, body: string): KubeObject {
  const parsed = parseJson(body);
  if ('error' in parsed) throw badRequest(`error decoding patch: ${parsed.error}`);
  const operations = parsed.value;
  if (!Array.isArray(operations)) {
    throw badRequest(
      `error decoding patch: json: cannot unmarshal ${describeJsonKind(operations)} into Go value of type []handlers.jsonPatchOp`,
    );
  }
  const notAnOperation = operations.find((op) => !isJsonObject(op));
  if (notAnOperation !== undefined) {
    throw badRequest(
      `error decoding patch: json: cannot unmarshal ${describeJsonKind(notAnOperation)} into Go value of type handlers.jsonPatchOp`,
    );
  }
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw requestEntityTooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`,
    );
  }
  let result: unknown;
  try {
    // validate: unknown ops, missing paths and failed tests throw; mutateDocument false: the
    // live object stays untouched.
    result = jsonPatch.applyPatch(current, operations as unknown as Operation[], true, false).newDocument;
  } catch {
    throw patchRejected();
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw patchRejected();
  return result as KubeObject;
}

/** RFC 7396. The body must be a JSON object. */
function applyMergePatch(current: KubeObject, body: string): KubeObject {
  const parsed = parseJson(body);
  if ('error' in parsed) throw badRequest(`error decoding patch: ${parsed.error}`);
  // A null or non-object merge patch would replace the whole object; kube-apiserver's merge
  // patch library rejects it as "Invalid JSON Patch".
  if (!isJsonObject(parsed.value)) throw badRequest('Invalid JSON Patch');
  // json-merge-patch modifies its target in place: give it a copy.
  return jsonMergePatch.apply(deepCopy(current), parsed.value) as KubeObject;
}

function applyStrategicMergePatch(gvk: GroupVersionKind, current: KubeObject, body: string): KubeObject {
  const parsed = parseJson(body);
  if ('error' in parsed) throw badRequest(parsed.error);
  if (!isJsonObject(parsed.value)) {
    throw badRequest(`json: cannot unmarshal ${describeJsonKind(parsed.value)} into Go value of type map[string]interface {}`);
  }
  try {
    return strategicMergePatch(current as JsonObject, parsed.value, definitionNameOfKind(gvk)) as KubeObject;
  } catch (err) {
    if (!(err instanceof StrategicMergePatchError)) throw err;
    switch (err.errorClass) {
      case 'bad-request':
        throw badRequest(err.message);
      case 'invalid':
        throw patchRejected();
      case 'internal':
        // Kubernetes answers the remaining SMP failures (a missing merge key, an unknown $patch
        // value) as internal errors.
        throw internalError(err);
    }
  }
}
