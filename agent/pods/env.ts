// A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go
// makeEnvironmentVariables): envFrom sources first, in order, then env entries, later ones
// overriding earlier ones, then the service variables the container did not define itself
// (service-env.ts); `$(VAR)` in values refers to variables defined before; a missing
// non-optional ConfigMap, Secret or key is an error that keeps the container from being created
// (CreateContainerConfigError) until it appears.

import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeAllocatable, PodRuntimeFields } from './downward.js';
import { fieldRefValue, resourceFieldValue } from './downward.js';
import type { ReferencedObjects } from './referenced-objects.js';
import { configMapData, secretData } from './referenced-objects.js';
import { linkedServices, serviceEnvVars } from './service-env.js';

/** The container cannot be configured (yet): its waiting reason is CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/**
 * Expands `$(NAME)` references (Kubernetes' expansion rules): a defined name is replaced, an
 * undefined one is left as written, `$$` is a literal `$`.
 */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      const value = lookup(name);
      out += value !== undefined ? value : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface EnvContext {
  pod: Pod;
  container: Container;
  runtime: PodRuntimeFields;
  allocatable: NodeAllocatable;
  objects: ReferencedObjects;
}

export async function containerEnv(ctx: EnvContext): Promise<Map<string, string>> {
  const { pod, container, objects } = ctx;
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  const enableServiceLinks = pod.spec?.enableServiceLinks !== false;
  const candidates = [...(await objects.services('default')), ...(enableServiceLinks && namespace !== 'default' ? await objects.services(namespace) : [])];
  const services = serviceEnvVars(linkedServices(candidates, namespace, enableServiceLinks));
  // `$(VAR)` may name a service variable too; the container's own definitions come first.
  const lookup = (name: string) => env.get(name) ?? services.get(name);

  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const name = source.configMapRef.name ?? '';
      const cm = await objects.configMap(namespace, name);
      if (!cm) {
        if (source.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(configMapData(cm))) env.set(prefix + k, v.toString('utf8'));
    } else if (source.secretRef) {
      const name = source.secretRef.name ?? '';
      const secret = await objects.secret(namespace, name);
      if (!secret) {
        if (source.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(secretData(secret))) env.set(prefix + k, v.toString('utf8'));
    }
  }

  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (!from) {
      env.set(entry.name, expandVars(entry.value ?? '', lookup));
      continue;
    }
    if (from.fieldRef) {
      try {
        env.set(entry.name, fieldRefValue(pod, from.fieldRef, ctx.runtime));
      } catch (err) {
        throw new ContainerConfigError((err as Error).message);
      }
    } else if (from.resourceFieldRef) {
      try {
        env.set(entry.name, resourceFieldValue(pod, container, from.resourceFieldRef, ctx.allocatable));
      } catch (err) {
        throw new ContainerConfigError((err as Error).message);
      }
    } else if (from.configMapKeyRef) {
      const { name = '', key, optional } = from.configMapKeyRef;
      const cm = await objects.configMap(namespace, name);
      if (!cm) {
        if (optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      const value = configMapData(cm)[key];
      if (value === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
      }
      env.set(entry.name, value.toString('utf8'));
    } else if (from.secretKeyRef) {
      const { name = '', key, optional } = from.secretKeyRef;
      const secret = await objects.secret(namespace, name);
      if (!secret) {
        if (optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      const value = secretData(secret)[key];
      if (value === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
      }
      env.set(entry.name, value.toString('utf8'));
    } else {
      throw new ContainerConfigError(`env ${entry.name}: unsupported valueFrom source`);
    }
  }
  for (const [name, value] of services) if (!env.has(name)) env.set(name, value);
  return env;
}

/** command and args with `$(VAR)` expanded against the container's environment. */
export function expandCommand(container: Container, env: Map<string, string>): { command?: string[]; args?: string[] } {
  const lookup = (n: string) => env.get(n);
  return {
    command: container.command?.length ? container.command.map((s) => expandVars(s, lookup)) : undefined,
    args: container.args?.length ? container.args.map((s) => expandVars(s, lookup)) : container.command?.length ? [] : undefined,
  };
}
