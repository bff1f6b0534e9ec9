// Containers and init containers of a pod spec (core validation validateContainers,
// validateInitContainers, validateContainerCommon): names, image, ports, environment, mounts,
// resources, probes and security context.

import type { Container, ContainerPort, SecurityContext, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import { isDNS1123Label } from '../../../api/names.js';
import { validateEnv, validateEnvFrom } from './env.js';
import type { FieldPath } from './field-path.js';
import { isValidPortName, isValidPortNum, isValidUserID } from './formats.js';
import { has, items, text } from './json-shapes.js';
import { validateLifecycle, validateProbe } from './probes.js';
import { validateResourceRequirements } from './resources.js';
import { validateSeccompProfile } from './security.js';
import { validateLocalDescendingPath } from './volumes.js';

export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export interface ContainerContext {
  /** Volumes that passed validation; mounts must name one of them. */
  volumes: Map<string, Volume>;
  /** The pod's terminationGracePeriodSeconds, which bounds `sleep` lifecycle actions. */
  gracePeriod: number | undefined;
}

function validatePorts(ports: ContainerPort[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  items(ports).forEach((port, i) => {
    const p = path.index(i);
    const name = text(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) errs.push(...msgs.map((msg) => fieldError.invalid(p.child('name').toString(), name, msg)));
      else if (names.has(name)) errs.push(fieldError.duplicate(p.child('name').toString(), name));
      else names.add(name);
    }
    if (!port.containerPort) errs.push(fieldError.required(p.child('containerPort').toString()));
    else errs.push(...isValidPortNum(port.containerPort).map((msg) => fieldError.invalid(p.child('containerPort').toString(), port.containerPort, msg)));
    if (port.hostPort) {
      errs.push(...isValidPortNum(port.hostPort).map((msg) => fieldError.invalid(p.child('hostPort').toString(), port.hostPort, msg)));
    }
    if (!text(port.protocol)) errs.push(fieldError.required(p.child('protocol').toString()));
    else if (!PORT_PROTOCOLS.includes(text(port.protocol))) errs.push(fieldError.notSupported(p.child('protocol').toString(), port.protocol, PORT_PROTOCOLS));
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[] | undefined, ctx: ContainerContext, privileged: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  items(mounts).forEach((mount, i) => {
    const p = path.index(i);
    const name = text(mount.name);
    if (!name) errs.push(fieldError.required(p.child('name').toString()));
    if (!ctx.volumes.has(name)) errs.push({ type: 'FieldValueNotFound', field: p.child('name').toString(), badValue: name });
    const mountPath = text(mount.mountPath);
    if (!mountPath) errs.push(fieldError.required(p.child('mountPath').toString()));
    if (mountPoints.has(mountPath)) errs.push(fieldError.invalid(p.child('mountPath').toString(), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    // Kubernetes reports sub-path problems against the list, not the entry.
    if (text(mount.subPath)) errs.push(...validateLocalDescendingPath(text(mount.subPath), path.child('subPath')));
    if (text(mount.subPathExpr)) {
      if (text(mount.subPath)) {
        errs.push(fieldError.invalid(p.child('subPathExpr').toString(), mount.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      }
      errs.push(...validateLocalDescendingPath(text(mount.subPathExpr), path.child('subPathExpr')));
    }
    const propagation = mount.mountPropagation;
    if (propagation !== undefined && propagation !== null) {
      const supported = ['Bidirectional', 'HostToContainer', 'None'];
      if (!supported.includes(propagation)) errs.push(fieldError.notSupported(path.child('mountPropagation').toString(), propagation, supported));
      if (propagation === 'Bidirectional' && !privileged) {
        errs.push(fieldError.forbidden(path.child('mountPropagation').toString(), 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
  });
  return errs;
}

function validateContainerSecurityContext(sc: SecurityContext | undefined, path: FieldPath): FieldError[] {
  if (!has(sc)) return [];
  const errs: FieldError[] = [];
  for (const field of ['runAsUser', 'runAsGroup'] as const) {
    const id = sc[field];
    if (typeof id === 'number') errs.push(...isValidUserID(id).map((msg) => fieldError.invalid(path.child(field).toString(), id, msg)));
  }
  if (sc.procMount !== undefined && sc.procMount !== null && sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') {
    errs.push(fieldError.notSupported(path.child('procMount').toString(), sc.procMount, ['Default', 'Unmasked']));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) {
      errs.push(fieldError.invalid(path.toString(), sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
    if (items(sc.capabilities?.add).includes('CAP_SYS_ADMIN')) {
      errs.push(fieldError.invalid(path.toString(), sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errs;
}

/** What every kind of container must satisfy. */
function validateContainerCommon(c: Container, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = text(c.name);
  if (!name) errs.push(fieldError.required(path.child('name').toString()));
  else errs.push(...isDNS1123Label(name).map((msg) => fieldError.invalid(path.child('name').toString(), name, msg)));
  if (!text(c.image)) errs.push(fieldError.required(path.child('image').toString()));
  const tmp = text(c.terminationMessagePolicy);
  if (!tmp) errs.push(fieldError.required(path.child('terminationMessagePolicy').toString()));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') {
    errs.push(fieldError.notSupported(path.child('terminationMessagePolicy').toString(), tmp, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validatePorts(c.ports, path.child('ports')));
  errs.push(...validateEnv(c.env, path.child('env')));
  errs.push(...validateEnvFrom(c.envFrom, path.child('envFrom')));
  errs.push(...validateVolumeMounts(c.volumeMounts, ctx, c.securityContext?.privileged === true, path.child('volumeMounts')));
  const pull = text(c.imagePullPolicy);
  if (!pull) errs.push(fieldError.required(path.child('imagePullPolicy').toString()));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) {
    errs.push(fieldError.notSupported(path.child('imagePullPolicy').toString(), pull, ['Always', 'IfNotPresent', 'Never']));
  }
  errs.push(...validateResourceRequirements(c.resources, path.child('resources')));
  errs.push(...validateContainerSecurityContext(c.securityContext, path.child('securityContext')));
  return errs;
}

function validateProbesAndLifecycle(c: Container, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (has(c.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, ctx.gracePeriod, path.child('lifecycle')));
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    errs.push(...validateProbe(kind, c[kind], ctx.gracePeriod, path.child(kind)));
  }
  return errs;
}

/** Host ports must not collide across the containers that run together (same protocol and host IP). */
function hostPortConflicts(containers: readonly Container[], path: FieldPath, indexOffset = 0): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    items(c.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${text(port.protocol)}/${text(port.hostIP)}/${port.hostPort}`;
      if (seen.has(key)) errs.push(fieldError.duplicate(path.index(ci + indexOffset).child('ports').index(pi).child('hostPort').toString(), key));
      seen.add(key);
    });
  });
  return errs;
}

export function validateContainers(containers: Container[] | undefined, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const list = items(containers);
  if (list.length === 0) return [fieldError.required(path.toString())];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (names.has(text(c.name))) errs.push(fieldError.duplicate(p.child('name').toString(), c.name));
    else names.add(text(c.name));
    errs.push(...validateProbesAndLifecycle(c, ctx, p));
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      errs.push(fieldError.forbidden(p.child('restartPolicy').toString(), 'may not be set for non-init containers'));
    }
  });
  return [...errs, ...hostPortConflicts(list, path)];
}

/**
 * Init containers run one at a time, so only their names (shared with the regular containers)
 * and their own ports must not clash. Those with restartPolicy Always are sidecars and may have
 * probes and lifecycle hooks; the others may not.
 */
export function validateInitContainers(
  initContainers: Container[] | undefined,
  containers: Container[] | undefined,
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(items(containers).map((c) => text(c.name)));
  items(initContainers).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    const restartPolicy = c.restartPolicy;
    if (restartPolicy !== undefined && restartPolicy !== null && restartPolicy !== 'Always') {
      errs.push(fieldError.notSupported(p.child('restartPolicy').toString(), restartPolicy, ['Always']));
    }
    if (names.has(text(c.name))) errs.push(fieldError.duplicate(p.child('name').toString(), c.name));
    else if (text(c.name)) names.add(text(c.name));
    errs.push(...hostPortConflicts([c], path, i));
    if (restartPolicy === 'Always') {
      errs.push(...validateProbesAndLifecycle(c, ctx, p));
    } else {
      for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (has(c[field])) errs.push(fieldError.forbidden(p.child(field).toString(), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

/** Pods (not templates) also refuse images with surrounding whitespace. */
export function validateImageWhitespace(containers: Container[] | undefined, path: FieldPath): FieldError[] {
  return items(containers).flatMap((c, i) =>
    text(c.image) !== text(c.image).trim()
      ? [fieldError.invalid(path.index(i).child('image').toString(), c.image, 'must not have leading or trailing whitespace')]
      : [],
  );
}
