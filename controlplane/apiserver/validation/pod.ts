// Pods (core validation ValidatePodCreate / ValidatePodUpdate / ValidatePodStatusUpdate). A running
// pod's spec is fixed except for the few fields Kubernetes lets users change.

import type { Container, ContainerStatus, Pod, PodSpec, Toleration } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../../api/names.js';
import { validateImageWhitespace } from './containers.js';
import { FieldPath } from './field-path.js';
import { inclusiveRangeError } from './formats.js';
import { has, items, jsonEqual, text } from './json-shapes.js';
import { isValidIP, parseIP } from './network.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';
import { validatePodSpec, validatePodSpecificAnnotations } from './podspec.js';
import { validateTolerations } from './scheduling.js';
import { describeDiff } from './spec-diff.js';

const META = FieldPath.of('metadata');
const SPEC = FieldPath.of('spec');
const MAX_INT32 = 2147483647;
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

function specOf(pod: Pod): PodSpec {
  return has(pod.spec) ? pod.spec : ({} as PodSpec);
}

/** validatePodMetadataAndSpec: what a pod must satisfy on create and after every update. */
function validateMetadataAndSpec(pod: Pod): FieldError[] {
  const meta = metaOf(pod);
  const spec = specOf(pod);
  const errs = validateObjectMeta(meta, { namespaced: true, nameRule: dnsSubdomainName, kubeFinalizers: true });
  errs.push(...validatePodSpecificAnnotations(meta.annotations, spec, META.child('annotations')));
  errs.push(...validatePodSpec(spec, SPEC, { resourceIsPod: true }));
  if (!text(spec.serviceAccountName)) {
    items(spec.volumes).forEach((v, vi) =>
      items(v.projected?.sources).forEach((src, si) => {
        if (has(src.serviceAccountToken)) {
          const p = SPEC.child('volumes').index(vi).child('projected', 'sources').index(si).child('serviceAccountToken');
          errs.push(fieldError.forbidden(p.toString(), 'must not be specified when serviceAccountName is not set'));
        }
      }),
    );
  }
  errs.push(...validateImageWhitespace(spec.containers, SPEC.child('containers')));
  errs.push(...validateImageWhitespace(spec.initContainers, SPEC.child('initContainers')));
  return errs;
}

export function validatePodCreate(pod: Pod): FieldError[] {
  const spec = specOf(pod);
  const errs = validateMetadataAndSpec(pod);
  if (items(spec.ephemeralContainers).length > 0) {
    errs.push(fieldError.forbidden(SPEC.child('ephemeralContainers').toString(), 'cannot be set on create'));
  }
  if (text(spec.nodeName) && items(spec.schedulingGates).length > 0) {
    errs.push(fieldError.forbidden(SPEC.child('nodeName').toString(), 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

function validateMirrorAnnotationUpdate(pod: Pod, old: Pod): FieldError[] {
  const now = metaOf(pod).annotations ?? {};
  const before = metaOf(old).annotations ?? {};
  const p = META.child('annotations').key(MIRROR_ANNOTATION).toString();
  if (MIRROR_ANNOTATION in before && now[MIRROR_ANNOTATION] !== before[MIRROR_ANNOTATION]) {
    return [fieldError.forbidden(p, 'may not remove or update mirror pod annotation')];
  }
  if (!(MIRROR_ANNOTATION in before) && MIRROR_ANNOTATION in now) return [fieldError.forbidden(p, 'may not add mirror pod annotation')];
  return [];
}

function validateContainerUpdates(now: readonly Container[], before: readonly Container[], path: FieldPath): { errs: FieldError[]; stop: boolean } {
  if (now.length !== before.length) return { errs: [fieldError.forbidden(path.toString(), 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  now.forEach((c, i) => {
    if (!text(c.image)) errs.push(fieldError.required(path.index(i).child('image').toString()));
    if (text(c.image) !== text(c.image).trim()) {
      errs.push(fieldError.invalid(path.index(i).child('image').toString(), c.image, 'must not have leading or trailing whitespace'));
    }
  });
  return { errs, stop: false };
}

/** Existing tolerations may only gain tolerationSeconds changes; new ones may be added. */
function validateOnlyAddedTolerations(now: readonly Toleration[], before: readonly Toleration[], path: FieldPath): FieldError[] {
  for (const old of before) {
    const kept = now.some((t) => jsonEqual({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!kept) return [fieldError.forbidden(path.toString(), 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations([...now], path);
}

export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(pod), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateMetadataAndSpec(pod));
  errs.push(...validateMirrorAnnotationUpdate(pod, old));
  const spec = specOf(pod);
  const oldSpec = specOf(old);

  for (const list of ['containers', 'initContainers'] as const) {
    const { errs: containerErrs, stop } = validateContainerUpdates(items(spec[list]), items(oldSpec[list]), SPEC.child(list));
    errs.push(...containerErrs);
    if (stop) return errs;
  }

  // activeDeadlineSeconds may be set, or lowered, but never raised or removed.
  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > MAX_INT32) {
      errs.push(fieldError.invalid(SPEC.child('activeDeadlineSeconds').toString(), ads, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (oldAds !== undefined && oldAds !== null && oldAds < ads) {
      errs.push(fieldError.invalid(SPEC.child('activeDeadlineSeconds').toString(), ads, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldAds !== undefined && oldAds !== null) {
    errs.push(fieldError.invalid(SPEC.child('activeDeadlineSeconds').toString(), null, 'must not update from a positive integer to nil value'));
  }

  errs.push(...validateOnlyAddedTolerations(items(spec.tolerations), items(oldSpec.tolerations), SPEC.child('tolerations')));
  const oldGates = new Set(items(oldSpec.schedulingGates).map((g) => g.name));
  items(spec.schedulingGates).forEach((g, i) => {
    if (!oldGates.has(g.name)) {
      errs.push(fieldError.forbidden(SPEC.child('schedulingGates').index(i).child('name').toString(), `only deletion is allowed, but found new scheduling gate '${g.name}'`));
    }
  });

  // Every other field must be as it was: compare with the updatable fields put back.
  const munged: PodSpec = {
    ...spec,
    containers: items(spec.containers).map((c, i) => ({ ...c, image: items(oldSpec.containers)[i]?.image })),
    activeDeadlineSeconds: oldSpec.activeDeadlineSeconds,
    tolerations: oldSpec.tolerations,
    schedulingGates: oldSpec.schedulingGates,
  };
  if (spec.initContainers !== undefined) {
    munged.initContainers = items(spec.initContainers).map((c, i) => ({ ...c, image: items(oldSpec.initContainers)[i]?.image }));
  }
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (!jsonEqual(munged, oldSpec)) {
    errs.push(
      fieldError.forbidden(
        SPEC.toString(),
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n${describeDiff(oldSpec, munged, 'spec')}`,
      ),
    );
  }
  return errs;
}

/** Once a container of a pod that does not restart it has terminated, it stays terminated. */
function validateStateTransitions(now: ContainerStatus[] | undefined, before: ContainerStatus[] | undefined, restartPolicy: string, path: FieldPath): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  items(before).forEach((old, i) => {
    const terminated = old.state?.terminated;
    if (!has(terminated)) return;
    if (terminated.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    for (const s of items(now)) {
      if (s.name === old.name && !has(s.state?.terminated)) {
        errs.push(fieldError.forbidden(path.index(i).child('state').toString(), 'may not be transitioned to non-terminated state'));
      }
    }
  });
  return errs;
}

function validateIPList(ips: readonly { ip?: string }[] | undefined, path: FieldPath): FieldError[] {
  const list = items(ips);
  const errs = list.flatMap((entry, i) => isValidIP(path.index(i), text(entry.ip)));
  if (list.length > 1 && errs.length === 0) {
    const families = list.map((e) => parseIP(text(e.ip))?.family);
    if (list.length > 2 || families[0] === families[1]) {
      errs.push(fieldError.invalid(path.toString(), list, 'may specify no more than one IP for each IP family'));
    }
    const seen = new Set<string>();
    list.forEach((e, i) => {
      if (seen.has(text(e.ip))) errs.push(fieldError.duplicate(path.index(i).toString(), e));
      seen.add(text(e.ip));
    });
  }
  return errs;
}

export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(metaOf(pod), metaOf(old), { kubeFinalizers: true });
  errs.push(...validateMirrorAnnotationUpdate(pod, old));
  const status = has(pod.status) ? pod.status : {};
  const oldStatus = has(old.status) ? old.status : {};
  const system = new Set(['PodScheduled', 'Ready', 'Initialized']);
  items(status.conditions).forEach((c, i) => {
    if (system.has(c.type)) return;
    // Kubernetes reports custom condition types under metadata (sic).
    const p = META.child('conditions').index(i).child('Type');
    errs.push(...isQualifiedName(text(c.type)).map((msg) => fieldError.invalid(p.toString(), c.type, msg)));
  });
  const statusPath = FieldPath.of('status');
  if (text(specOf(pod).nodeName) !== text(specOf(old).nodeName)) {
    errs.push(fieldError.forbidden(statusPath.child('nodeName').toString(), 'may not be changed directly'));
  }
  const nominated = text(status.nominatedNodeName);
  if (nominated && nominated !== text(oldStatus.nominatedNodeName)) {
    errs.push(...isDNS1123Subdomain(nominated).map((msg) => fieldError.invalid(statusPath.child('nominatedNodeName').toString(), nominated, msg)));
  }
  // The QoS class is fixed at creation. A status write that leaves it out keeps it (the server
  // carries it over), so only a different value is an error.
  if (text(status.qosClass) && text(status.qosClass) !== text(oldStatus.qosClass)) {
    errs.push(fieldError.immutable(statusPath.child('qosClass').toString(), text(status.qosClass)));
  }
  const restartPolicy = text(specOf(old).restartPolicy);
  errs.push(...validateStateTransitions(status.containerStatuses, oldStatus.containerStatuses, restartPolicy, statusPath.child('containerStatuses')));
  errs.push(...validateIPList(status.podIPs, statusPath.child('podIPs')));
  const hostIPs = items(status.hostIPs);
  if (hostIPs.length > 0 && text(status.hostIP) !== text(hostIPs[0]?.ip)) {
    errs.push(fieldError.invalid(statusPath.child('hostIPs').index(0).child('ip').toString(), hostIPs[0]?.ip, 'must be equal to `hostIP`'));
  }
  errs.push(...validateIPList(status.hostIPs, statusPath.child('hostIPs')));
  return errs;
}
