// Probes and lifecycle hooks (core validation validateProbe / validateHandler): exactly one
// handler, valid ports (a number or an IANA service name), non-negative timings.

import type { HTTPGetAction, Lifecycle, LifecycleHandler, Probe } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../../api/errors.js';
import { fieldError } from '../../../api/errors.js';
import type { FieldPath } from './field-path.js';
import { isHTTPHeaderName, isValidPortName, isValidPortNum } from './formats.js';
import { has, items, text } from './json-shapes.js';

/** A port given as a number or as the name of a container port. */
export function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => fieldError.invalid(path.toString(), port, msg));
  if (typeof port === 'string') return isValidPortName(port).map((msg) => fieldError.invalid(path.toString(), port, msg));
  return [fieldError.invalid(path.toString(), port, 'must be an integer or a string')];
}

function validateHTTPGet(action: HTTPGetAction, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!text(action.path)) errs.push(fieldError.required(path.child('path').toString()));
  errs.push(...validatePortNumOrName(action.port, path.child('port')));
  if (action.scheme !== 'HTTP' && action.scheme !== 'HTTPS') {
    errs.push(fieldError.notSupported(path.child('scheme').toString(), action.scheme ?? '', ['HTTP', 'HTTPS']));
  }
  for (const header of items(action.httpHeaders)) {
    for (const msg of isHTTPHeaderName(text(header.name))) errs.push(fieldError.invalid(path.child('httpHeaders').toString(), header.name, msg));
  }
  return errs;
}

type Handler = Pick<Probe, 'exec' | 'httpGet' | 'tcpSocket' | 'grpc'> & Pick<LifecycleHandler, 'sleep'>;

function validateHandler(handler: Handler, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let handlers = 0;
  const one = (name: keyof Handler, check: () => FieldError[]): void => {
    if (!has(handler[name])) return;
    if (handlers > 0) {
      errs.push(fieldError.forbidden(path.child(name).toString(), 'may not specify more than 1 handler type'));
      return;
    }
    handlers++;
    errs.push(...check());
  };
  one('exec', () => (items(handler.exec?.command).length === 0 ? [fieldError.required(path.child('exec', 'command').toString())] : []));
  one('httpGet', () => validateHTTPGet(handler.httpGet as HTTPGetAction, path.child('httpGet')));
  one('tcpSocket', () => validatePortNumOrName(handler.tcpSocket?.port, path.child('tcpSocket', 'port')));
  one('grpc', () => validatePortNumOrName(handler.grpc?.port, path.child('grpc', 'port')));
  one('sleep', () => {
    const seconds = handler.sleep?.seconds ?? 0;
    if (gracePeriod === undefined || (seconds > 0 && seconds <= gracePeriod)) return [];
    return [
      fieldError.invalid(
        path.child('sleep').toString(),
        seconds,
        `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
      ),
    ];
  });
  if (handlers === 0) errs.push(fieldError.required(path.toString(), 'must specify a handler type'));
  return errs;
}

export type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

export function validateProbe(kind: ProbeKind, probe: Probe | undefined, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  if (!has(probe)) return [];
  const errs = validateHandler(probe, gracePeriod, path);
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = probe[field];
    if (typeof v === 'number' && v < 0) errs.push(fieldError.invalid(path.child(field).toString(), v, 'must be greater than or equal to 0'));
  }
  const tgps = probe.terminationGracePeriodSeconds;
  if (typeof tgps === 'number' && tgps <= 0) {
    errs.push(fieldError.invalid(path.child('terminationGracePeriodSeconds').toString(), tgps, 'must be greater than 0'));
  }
  if (kind !== 'readinessProbe' && probe.successThreshold !== 1) {
    // Liveness and startup probes act on the first success; more would only delay a restart.
    errs.push(fieldError.invalid(path.child('successThreshold').toString(), probe.successThreshold ?? 0, 'must be 1'));
  }
  if (kind === 'readinessProbe' && tgps !== undefined && tgps !== null) {
    errs.push(fieldError.invalid(path.child('terminationGracePeriodSeconds').toString(), tgps, 'must not be set for readinessProbes'));
  }
  return errs;
}

export function validateLifecycle(lifecycle: Lifecycle, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (has(lifecycle.postStart)) errs.push(...validateHandler(lifecycle.postStart, gracePeriod, path.child('postStart')));
  if (has(lifecycle.preStop)) errs.push(...validateHandler(lifecycle.preStop, gracePeriod, path.child('preStop')));
  return errs;
}
