// The Secrets and ConfigMaps a pod references, as Kubernetes' node authorizer follows them:
// image pull secrets, volumes (secret, configMap, and the sources of projected volumes), and the
// env / envFrom of every container, init container and ephemeral container.

import type { Container, EnvFromSource, EnvVar, Pod, Volume } from 'kubernetes-types/core/v1.js';

export interface PodReferences {
  secrets: Set<string>;
  configmaps: Set<string>;
}

function addName(set: Set<string>, name: string | undefined): void {
  if (name) set.add(name);
}

function fromVolume(volume: Volume, refs: PodReferences): void {
  addName(refs.secrets, volume.secret?.secretName);
  addName(refs.configmaps, volume.configMap?.name);
  for (const source of volume.projected?.sources ?? []) {
    addName(refs.secrets, source.secret?.name);
    addName(refs.configmaps, source.configMap?.name);
  }
}

function fromEnv(env: readonly EnvVar[] | undefined, envFrom: readonly EnvFromSource[] | undefined, refs: PodReferences): void {
  for (const variable of env ?? []) {
    addName(refs.secrets, variable.valueFrom?.secretKeyRef?.name);
    addName(refs.configmaps, variable.valueFrom?.configMapKeyRef?.name);
  }
  for (const source of envFrom ?? []) {
    addName(refs.secrets, source.secretRef?.name);
    addName(refs.configmaps, source.configMapRef?.name);
  }
}

export function podReferences(pod: Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configmaps: new Set() };
  const spec = pod.spec;
  if (!spec) return refs;
  for (const pullSecret of spec.imagePullSecrets ?? []) addName(refs.secrets, pullSecret.name);
  for (const volume of spec.volumes ?? []) fromVolume(volume, refs);
  const containers: Pick<Container, 'env' | 'envFrom'>[] = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const container of containers) fromEnv(container.env, container.envFrom, refs);
  return refs;
}
