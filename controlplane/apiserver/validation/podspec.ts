// PodSpec and PodTemplateSpec (core validation ValidatePodSpec / ValidatePodTemplateSpec): the
// rules shared by Pods and by every workload's pod template.

import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../../api/names.js';
import { validateContainers, validateInitContainers } from './containers.js';
import type { FieldPath } from './field-path.js';
import { inclusiveRangeError } from './formats.js';
import { entries, has, items, text } from './json-shapes.js';
import { validateLabels } from './label-selector.js';
import { isValidIP } from './network.js';
import { validateAnnotations } from './objectmeta.js';
import { validateAffinity, validateTolerations, validateTopologySpreadConstraints } from './scheduling.js';
import { validatePodSecurityContext } from './security.js';
import { validateVolumes } from './volumes.js';

export interface PodSpecOptions {
  /** The spec belongs to a Pod, not to a template inside another kind. */
  resourceIsPod: boolean;
}

const MAX_INT32 = 2147483647;
export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function subdomainErrors(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => fieldError.invalid(path.toString(), value, msg));
}

function labelErrors(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Label(value).map((msg) => fieldError.invalid(path.toString(), value, msg));
}

function validateDNSConfig(spec: PodSpec, path: FieldPath): FieldError[] {
  const config = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!has(config)) return [fieldError.required(path.toString(), 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (items(config.nameservers).length === 0) {
      return [fieldError.required(path.child('nameservers').toString(), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (!has(config)) return [];
  const errs: FieldError[] = [];
  const nameservers = items(config.nameservers);
  if (nameservers.length > 3) errs.push(fieldError.invalid(path.child('nameservers').toString(), nameservers, 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => errs.push(...isValidIP(path.child('nameservers').index(i), text(ns))));
  const searches = items(config.searches);
  if (searches.length > 32) errs.push(fieldError.invalid(path.child('searches').toString(), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) {
    errs.push(fieldError.invalid(path.child('searches').toString(), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  }
  searches.forEach((s, i) => errs.push(...subdomainErrors(text(s).replace(/\.$/, ''), path.child('searches').index(i))));
  items(config.options).forEach((o, i) => {
    if (!text(o.name)) errs.push(fieldError.required(path.child('options').index(i).toString(), 'must not be empty'));
  });
  return errs;
}

function validateRestartPolicy(policy: string, path: FieldPath): FieldError[] {
  if (!policy) return [fieldError.required(path.toString())];
  return RESTART_POLICIES.includes(policy) ? [] : [fieldError.notSupported(path.toString(), policy, RESTART_POLICIES)];
}

function validateDNSPolicy(policy: string, path: FieldPath): FieldError[] {
  if (!policy) return [fieldError.required(path.toString())];
  return DNS_POLICIES.includes(policy) ? [] : [fieldError.notSupported(path.toString(), policy, DNS_POLICIES)];
}

export function validatePodSpec(spec: PodSpec | undefined, path: FieldPath, opts: PodSpecOptions): FieldError[] {
  const s: PodSpec = has(spec) ? spec : ({} as PodSpec);
  const errs: FieldError[] = [];
  const gracePeriod = typeof s.terminationGracePeriodSeconds === 'number' ? s.terminationGracePeriodSeconds : undefined;
  if (gracePeriod === undefined) errs.push(fieldError.required(path.child('terminationGracePeriodSeconds').toString()));

  const volumes = validateVolumes(s.volumes, path.child('volumes'));
  errs.push(...volumes.errs);
  const ctx = { volumes: volumes.byName, gracePeriod };
  errs.push(...validateContainers(s.containers, ctx, path.child('containers')));
  errs.push(...validateInitContainers(s.initContainers, s.containers, ctx, path.child('initContainers')));

  if (s.hostNetwork === true) {
    items(s.containers).forEach((c, i) =>
      items(c.ports).forEach((port, j) => {
        // In a template a hostPort of 0 is fine: it becomes containerPort when the pod is defaulted.
        if ((opts.resourceIsPod || port.hostPort) && (port.hostPort ?? 0) !== port.containerPort) {
          const p = path.child('containers').index(i).child('ports').index(j).child('hostPort');
          errs.push(fieldError.invalid(p.toString(), port.hostPort ?? 0, 'must match `containerPort` when `hostNetwork` is true'));
        }
      }),
    );
  }
  errs.push(...validateRestartPolicy(text(s.restartPolicy), path.child('restartPolicy')));
  errs.push(...validateDNSPolicy(text(s.dnsPolicy), path.child('dnsPolicy')));
  errs.push(...validateLabels(s.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(s.securityContext, path.child('securityContext')));
  if (s.shareProcessNamespace === true && s.hostPID === true) {
    errs.push(fieldError.invalid(path.child('securityContext', 'shareProcessNamespace').toString(), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  items(s.imagePullSecrets).forEach((ref, i) => {
    if (has(ref) && Object.keys(ref).some((k) => k !== 'name')) {
      errs.push(fieldError.invalid(path.child('imagePullSecrets').index(i).toString(), ref, 'only name may be set'));
    }
  });
  errs.push(...validateAffinity(s.affinity, path.child('affinity')));
  errs.push(...validateDNSConfig(s, path.child('dnsConfig')));
  items(s.readinessGates).forEach((g, i) => {
    const p = path.child('readinessGates').index(i).child('conditionType');
    errs.push(...isQualifiedName(text(g.conditionType)).map((msg) => fieldError.invalid(p.toString(), g.conditionType, msg)));
  });
  const gates = new Set<string>();
  items(s.schedulingGates).forEach((g, i) => {
    const p = path.child('schedulingGates').index(i);
    errs.push(...isQualifiedName(text(g.name)).map((msg) => fieldError.invalid(p.toString(), g.name, msg)));
    if (gates.has(text(g.name))) errs.push(fieldError.duplicate(p.toString(), g.name));
    gates.add(text(g.name));
  });
  errs.push(...validateTopologySpreadConstraints(s.topologySpreadConstraints, path.child('topologySpreadConstraints')));
  if (text(s.serviceAccountName)) errs.push(...subdomainErrors(text(s.serviceAccountName), path.child('serviceAccountName')));
  if (text(s.nodeName)) errs.push(...subdomainErrors(text(s.nodeName), path.child('nodeName')));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (!(v >= 1 && v <= MAX_INT32)) errs.push(fieldError.invalid(path.child('activeDeadlineSeconds').toString(), v, inclusiveRangeError(1, MAX_INT32)));
  }
  if (text(s.hostname)) errs.push(...labelErrors(text(s.hostname), path.child('hostname')));
  if (text(s.subdomain)) errs.push(...labelErrors(text(s.subdomain), path.child('subdomain')));
  errs.push(...validateTolerations(s.tolerations, path.child('tolerations')));
  items(s.hostAliases).forEach((alias, i) => {
    const p = path.child('hostAliases').index(i);
    errs.push(...isValidIP(p.child('ip'), text(alias.ip)));
    items(alias.hostnames).forEach((h, j) => errs.push(...subdomainErrors(text(h), p.child('hostnames').index(j))));
  });
  if (text(s.priorityClassName)) errs.push(...subdomainErrors(text(s.priorityClassName), path.child('priorityClassName')));
  if (s.runtimeClassName !== undefined && s.runtimeClassName !== null) {
    errs.push(...subdomainErrors(text(s.runtimeClassName), path.child('runtimeClassName')));
  }
  const preemption = s.preemptionPolicy;
  if (preemption !== undefined && preemption !== null) {
    if (!preemption) errs.push(fieldError.required(path.child('preemptionPolicy').toString()));
    else if (preemption !== 'PreemptLowerPriority' && preemption !== 'Never') {
      errs.push(fieldError.notSupported(path.child('preemptionPolicy').toString(), preemption, ['PreemptLowerPriority', 'Never']));
    }
  }
  if (has(s.os)) {
    if (!text(s.os.name)) errs.push(fieldError.required(path.child('os', 'name').toString(), 'cannot be empty'));
    else if (s.os.name !== 'linux' && s.os.name !== 'windows') errs.push(fieldError.notSupported(path.child('os').toString(), s.os.name, ['linux', 'windows']));
  }
  return errs;
}

const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** Annotations with a meaning for pods (core ValidatePodSpecificAnnotations, the parts Skiff uses). */
export function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of entries(annotations)) {
    if (k === POD_DELETION_COST) {
      const n = Number(v);
      if (!/^[+-]?\d+$/.test(text(v)) || n < -2147483648 || n > MAX_INT32) {
        errs.push(fieldError.invalid(path.key(k).toString(), v, 'must be a 32bit integer'));
      }
    }
    if (k === 'kubernetes.io/config.mirror' && !text(spec?.nodeName)) {
      errs.push(fieldError.invalid(path.key(k).toString(), v, 'must set spec.nodeName if mirror pod annotation is set'));
    }
  }
  return errs;
}

/**
 * A pod template inside a workload. Kubernetes reports template label problems at
 * `<template>.labels`, not `<template>.metadata.labels`.
 */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  const t: PodTemplateSpec = has(template) ? template : {};
  const meta: ObjectMeta = has(t.metadata) ? t.metadata : {};
  const errs = validateLabels(meta.labels, path.child('labels'));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validatePodSpecificAnnotations(meta.annotations, t.spec, path.child('annotations')));
  errs.push(...validatePodSpec(t.spec, path.child('spec'), { resourceIsPod: false }));
  if (items(t.spec?.ephemeralContainers).length > 0) {
    errs.push(fieldError.forbidden(path.child('spec', 'ephemeralContainers').toString(), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}
