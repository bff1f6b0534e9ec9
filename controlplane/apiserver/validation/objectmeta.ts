// ObjectMeta rules shared by every kind (apimachinery pkg/api/validation/objectmeta.go, plus the
// core package's finalizer-name rule): name and generateName syntax, namespace scope, labels,
// annotations, owner references, finalizers, and what an update may not change.

import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../../api/names.js';
import { FieldPath } from './field-path.js';
import { isValidPathSegmentName } from './formats.js';
import { entries, has, items, jsonEqual, text } from './json-shapes.js';
import { validateLabels } from './label-selector.js';

/** Checks a name; `prefix` is true for generateName, where a trailing dash is expected. */
export type NameRule = (name: string, prefix: boolean) => string[];

/**
 * Kubernetes lets a generateName end in '-' by checking a masked copy. Its mask drops the
 * character before the dash as well (name[:len-2] + "a"); Skiff copies that for fidelity.
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const dnsSubdomainName: NameRule = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const dnsLabelName: NameRule = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const dns1035LabelName: NameRule = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
/** The only rule the generic registry applies to every name: it must work as a URL path segment. */
export const pathSegmentName: NameRule = isValidPathSegmentName;

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export interface MetaOptions {
  /** Namespaced kinds require metadata.namespace; cluster-scoped kinds forbid it. */
  namespaced: boolean;
  nameRule: NameRule;
  /**
   * The core, apps, batch and discovery packages also require finalizer names without a '/' to
   * be one of Kubernetes' own (`kubernetes`, `orphan`, `foregroundDeletion`).
   */
  kubeFinalizers?: boolean;
}

export function metaOf(obj: { metadata?: ObjectMeta }): ObjectMeta {
  return has(obj.metadata) ? obj.metadata : {};
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries(annotations)) {
    // Annotation keys are qualified names, but case does not matter.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(fieldError.invalid(path.toString(), k, msg));
    size += Buffer.byteLength(k) + Buffer.byteLength(text(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldError.tooLong(path.toString(), TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] ?? '' };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return { group: '', version: '' };
}

function validateOwnerReference(ref: OwnerReference, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const gv = splitAPIVersion(text(ref.apiVersion));
  if (!gv.version) errs.push(fieldError.invalid(path.child('apiVersion').toString(), text(ref.apiVersion), 'version must not be empty'));
  if (!text(ref.kind)) errs.push(fieldError.invalid(path.child('kind').toString(), text(ref.kind), 'kind must not be empty'));
  if (!text(ref.name)) errs.push(fieldError.invalid(path.child('name').toString(), text(ref.name), 'name must not be empty'));
  if (!text(ref.uid)) errs.push(fieldError.invalid(path.child('uid').toString(), text(ref.uid), 'uid must not be empty'));
  // Events are garbage collected on their own schedule and may not own anything.
  if (gv.group === '' && gv.version === 'v1' && ref.kind === 'Event') {
    errs.push(fieldError.invalid(path.toString(), ref, '/v1, Kind=Event is disallowed from being an owner'));
  }
  return errs;
}

export function validateOwnerReferences(refs: OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of items(refs)) {
    errs.push(...validateOwnerReference(ref, path));
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(
          fieldError.invalid(
            path.toString(),
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

export function validateFinalizers(finalizers: string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = items(finalizers);
  for (const f of list) for (const msg of isQualifiedName(text(f))) errs.push(fieldError.invalid(path.toString(), f, msg));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(fieldError.invalid(path.toString(), list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/** A finalizer without a domain must be one Kubernetes defines (core validateKubeFinalizerName). */
export function validateKubeFinalizerName(name: string, path: FieldPath): FieldError[] {
  if (name.includes('/') || STANDARD_FINALIZERS.has(name)) return [];
  return [fieldError.invalid(path.toString(), name, 'name is neither a standard finalizer name nor is it fully qualified')];
}

function kubeFinalizerErrors(meta: ObjectMeta, path: FieldPath): FieldError[] {
  return items(meta.finalizers).flatMap((f, i) => validateKubeFinalizerName(text(f), path.child('finalizers').index(i)));
}

/** ObjectMeta on create: ValidateObjectMetaAccessor (and the core wrapper when kubeFinalizers is set). */
export function validateObjectMeta(meta: ObjectMeta, opts: MetaOptions, path = FieldPath.of('metadata')): FieldError[] {
  const errs: FieldError[] = [];
  const generateName = text(meta.generateName);
  if (generateName) {
    for (const msg of opts.nameRule(generateName, true)) errs.push(fieldError.invalid(path.child('generateName').toString(), generateName, msg));
  }
  const name = text(meta.name);
  if (!name) {
    errs.push(fieldError.required(path.child('name').toString(), 'name or generateName is required'));
  } else {
    for (const msg of opts.nameRule(name, false)) errs.push(fieldError.invalid(path.child('name').toString(), name, msg));
  }
  const namespace = text(meta.namespace);
  if (opts.namespaced) {
    if (!namespace) errs.push(fieldError.required(path.child('namespace').toString()));
    else for (const msg of isDNS1123Label(namespace)) errs.push(fieldError.invalid(path.child('namespace').toString(), namespace, msg));
  } else if (namespace) {
    errs.push(fieldError.forbidden(path.child('namespace').toString(), 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    errs.push(fieldError.invalid(path.child('generation').toString(), meta.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, path.child('finalizers')));
  if (opts.kubeFinalizers) errs.push(...kubeFinalizerErrors(meta, path));
  return errs;
}

/**
 * ObjectMeta on update (ValidateObjectMetaAccessorUpdate). The API server copies uid,
 * creationTimestamp and resourceVersion from the stored object when a request leaves them out,
 * so those are compared only when the request sets them.
 */
export function validateObjectMetaUpdate(
  meta: ObjectMeta,
  old: ObjectMeta,
  opts: { kubeFinalizers?: boolean } = {},
  path = FieldPath.of('metadata'),
): FieldError[] {
  const errs: FieldError[] = [];
  if (old.deletionTimestamp) {
    const before = new Set(items(old.finalizers));
    const added = [...new Set(items(meta.finalizers))].filter((f) => !before.has(f)).sort();
    if (added.length > 0) {
      const list = added.map((f) => JSON.stringify(f)).join(', ');
      errs.push(
        fieldError.forbidden(
          path.child('finalizers').toString(),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${list}}`,
        ),
      );
    }
  }
  if (typeof meta.generation === 'number' && typeof old.generation === 'number' && meta.generation < old.generation) {
    errs.push(fieldError.invalid(path.child('generation').toString(), meta.generation, 'must not be decremented'));
  }
  const immutable: (keyof ObjectMeta)[] = ['name', 'namespace'];
  for (const field of immutable) {
    if (text(meta[field]) !== text(old[field])) errs.push(fieldError.immutable(path.child(field).toString(), text(meta[field])));
  }
  for (const field of ['uid', 'creationTimestamp'] as const) {
    if (meta[field] !== undefined && !jsonEqual(meta[field], old[field])) {
      errs.push(fieldError.immutable(path.child(field).toString(), meta[field]));
    }
  }
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  if (opts.kubeFinalizers) errs.push(...kubeFinalizerErrors(meta, path));
  return errs;
}

/**
 * What the generic registry checks for every kind after the kind's own validation passed
 * (apiserver rest.BeforeCreate): ObjectMeta with names that must be usable as URL path segments.
 */
export function validateCommonMeta(meta: ObjectMeta, namespaced: boolean): FieldError[] {
  return validateObjectMeta(meta, { namespaced, nameRule: pathSegmentName });
}
