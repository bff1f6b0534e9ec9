// Builders for valid objects and helpers that run them through defaulting and validation the way
// the API server does, so each test states only what it changes and what Kubernetes would say.

import type { FieldError } from '../../api/errors.js';
import { fieldErrorMessage } from '../../api/errors.js';
import type { KubeObject } from '../../api/objects.js';
import type { ResourceType } from '../../api/resources.js';
import { RESOURCES } from '../../api/resources.js';
import { applyDefaults } from '../../controlplane/apiserver/defaults/index.js';
import { validateCreate, validateStatusUpdate, validateUpdate } from '../../controlplane/apiserver/validation/index.js';

export function resource(group: string, kind: string): ResourceType {
  const r = RESOURCES.find((x) => x.group === group && x.kind === kind);
  if (!r) throw new Error(`no resource ${group}/${kind}`);
  return r;
}

/** An object as the server would hold it for validation: defaults applied, uid set. */
export function prepared<T extends KubeObject>(r: ResourceType, obj: T): T {
  const copy = structuredClone(obj);
  applyDefaults(r, copy);
  return copy;
}

export function messages(errs: FieldError[]): string[] {
  return errs.map(fieldErrorMessage);
}

export function createErrors(r: ResourceType, obj: KubeObject): string[] {
  return messages(validateCreate(r, prepared(r, obj)));
}

export function updateErrors(r: ResourceType, obj: KubeObject, old: KubeObject): string[] {
  return messages(validateUpdate(r, prepared(r, obj), prepared(r, old)));
}

export function statusErrors(r: ResourceType, obj: KubeObject, old: KubeObject): string[] {
  return messages(validateStatusUpdate(r, obj, old));
}

/** Applies a change to a copy, for table-driven cases. */
export function changed<T>(obj: T, change: (o: T) => void): T {
  const copy = structuredClone(obj);
  change(copy);
  return copy;
}

export type Loose = any;

export const POD = resource('', 'Pod');
export const SERVICE = resource('', 'Service');
export const DEPLOYMENT = resource('apps', 'Deployment');

export function pod(): Loose {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u-1' },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
  };
}

export function deployment(): Loose {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
    },
  };
}

export function service(): Loose {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}
