// Pod and container security settings (core validation validatePodSpecSecurityContext and
// validateSeccompProfileField): id ranges, seccomp profiles, sysctls.

import type { PodSecurityContext, SeccompProfile } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import type { FieldPath } from './field-path.js';
import { isValidGroupID, isValidUserID } from './formats.js';
import { has, items, text } from './json-shapes.js';
import { validateLocalDescendingPath } from './volumes.js';

export function validateSeccompProfile(sp: SeccompProfile | undefined, path: FieldPath): FieldError[] {
  if (!has(sp)) return [];
  const errs: FieldError[] = [];
  const type = text(sp.type);
  const types = ['Localhost', 'RuntimeDefault', 'Unconfined'];
  if (!type) errs.push(fieldError.required(path.child('type').toString(), 'type is required when seccompProfile is set'));
  else if (!types.includes(type)) errs.push(fieldError.notSupported(path.child('type').toString(), type, types));
  if (type === 'Localhost') {
    if (sp.localhostProfile === undefined || sp.localhostProfile === null) {
      errs.push(fieldError.required(path.child('localhostProfile').toString(), 'must be set when seccomp type is Localhost'));
    } else {
      errs.push(...validateLocalDescendingPath(text(sp.localhostProfile), path.child('localhostProfile')));
    }
  } else if (sp.localhostProfile !== undefined && sp.localhostProfile !== null) {
    errs.push(fieldError.invalid(path.child('localhostProfile').toString(), sp, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;

export function validatePodSecurityContext(sc: PodSecurityContext | undefined, path: FieldPath): FieldError[] {
  if (!has(sc)) return [];
  const errs: FieldError[] = [];
  for (const [field, check] of [['fsGroup', isValidGroupID], ['runAsUser', isValidUserID], ['runAsGroup', isValidGroupID]] as const) {
    const id = sc[field];
    if (typeof id === 'number') errs.push(...check(id).map((msg) => fieldError.invalid(path.child(field).toString(), id, msg)));
  }
  items(sc.supplementalGroups).forEach((gid, i) => {
    errs.push(...isValidGroupID(gid).map((msg) => fieldError.invalid(path.child('supplementalGroups').index(i).toString(), gid, msg)));
  });
  const names = new Set<string>();
  items(sc.sysctls).forEach((s, i) => {
    const p = path.child('sysctls').index(i).child('name');
    const name = text(s.name);
    if (!name) errs.push(fieldError.required(p.toString()));
    else if (name.length > 253 || !SYSCTL_NAME.test(name)) {
      errs.push(fieldError.invalid(p.toString(), name, `must have at most 253 characters and match regex ${SYSCTL_NAME.source}`));
    } else if (names.has(name)) errs.push(fieldError.duplicate(p.toString(), name));
    names.add(name);
  });
  const policy = sc.fsGroupChangePolicy;
  if (policy !== undefined && policy !== null && policy !== 'Always' && policy !== 'OnRootMismatch') {
    errs.push(fieldError.notSupported(path.child('fsGroupChangePolicy').toString(), policy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  return errs;
}
