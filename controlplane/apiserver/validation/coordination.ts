// coordination.k8s.io/v1 Leases (coordination validation ValidateLease): used for leader election
// and node heartbeats, so their timings must make sense.

import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isQualifiedName } from '../../../api/names.js';
import { FieldPath } from './field-path.js';
import { has, text } from './json-shapes.js';
import { dnsSubdomainName, metaOf, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';

const SPEC = FieldPath.of('spec');

function validateLeaseSpec(lease: Lease): FieldError[] {
  const spec = has(lease.spec) ? lease.spec : {};
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(fieldError.invalid(SPEC.child('leaseDurationSeconds').toString(), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(fieldError.invalid(SPEC.child('leaseTransitions').toString(), spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  const strategy = (spec as { strategy?: string }).strategy;
  if (strategy !== undefined && strategy !== null) {
    const path = SPEC.child('strategy', 'strategy').toString();
    if (!strategy.includes('/')) {
      if (strategy !== 'OldestEmulationVersion') errs.push(fieldError.notSupported(path, strategy, ['OldestEmulationVersion']));
    } else {
      errs.push(...isQualifiedName(strategy).map((msg) => fieldError.invalid(path, strategy, msg)));
    }
  }
  const preferred = (spec as { preferredHolder?: string }).preferredHolder;
  if (text(preferred) && !text(strategy)) {
    errs.push(fieldError.forbidden(SPEC.child('preferredHolder').toString(), 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

export function validateLease(lease: Lease): FieldError[] {
  // Leases use apimachinery's ObjectMeta rules, without the core finalizer-name check.
  return [...validateObjectMeta(metaOf(lease), { namespaced: true, nameRule: dnsSubdomainName }), ...validateLeaseSpec(lease)];
}

export function validateLeaseUpdate(lease: Lease, old: Lease): FieldError[] {
  return [...validateObjectMetaUpdate(metaOf(lease), metaOf(old)), ...validateLeaseSpec(lease)];
}
