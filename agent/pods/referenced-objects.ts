// The ConfigMaps and Secrets pods refer to (env, envFrom, volumes), and the Services whose
// variables containers get, read from the API on demand
// with a short cache so that one sync reading the same object for several containers asks once.
// A missing object is an answer (undefined), not an error; transport failures throw.

import type { ConfigMap, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../../api/client.js';
import { isNotFound } from '../../api/client.js';
import { StatusError } from '../../api/errors.js';
import { resourceFor } from '../../api/resources.js';

const configMaps = resourceFor('', 'configmaps');
const secrets = resourceFor('', 'secrets');
const services = resourceFor('', 'services');

interface Cached<T> {
  value: T | undefined;
  atMs: number;
}

export class ReferencedObjects {
  private readonly cache = new Map<string, Cached<ConfigMap | Secret>>();
  private readonly serviceLists = new Map<string, { value: Service[]; atMs: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 1000,
  ) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.read(configMaps, namespace, name) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.read(secrets, namespace, name) as Promise<Secret | undefined>;
  }

  /**
   * The Services of a namespace (for service environment variables), cached like the rest. When
   * the API cannot be reached, the last list read stands in (as the kubelet's informer cache
   * does), so that containers keep restarting through an API outage.
   */
  async services(namespace: string): Promise<Service[]> {
    const key = `services/${namespace}`;
    const hit = this.serviceLists.get(key);
    if (hit && Date.now() - hit.atMs < this.ttlMs) return hit.value;
    let value: Service[];
    try {
      value = (await this.client.list(services, namespace)).items as unknown as Service[];
    } catch (err) {
      if (hit && !(err instanceof StatusError)) return hit.value;
      throw err;
    }
    this.serviceLists.set(key, { value, atMs: Date.now() });
    if (this.serviceLists.size > 100) this.serviceLists.delete(this.serviceLists.keys().next().value as string);
    return value;
  }

  private async read(resource: typeof configMaps, namespace: string, name: string): Promise<ConfigMap | Secret | undefined> {
    const key = `${resource.plural}/${namespace}/${name}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.atMs < this.ttlMs) return hit.value;
    let value: ConfigMap | Secret | undefined;
    try {
      value = (await this.client.get(resource, namespace, name)) as unknown as ConfigMap | Secret;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      value = undefined;
    }
    this.cache.set(key, { value, atMs: Date.now() });
    if (this.cache.size > 1000) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}

/** A Secret's data decoded (values are base64 in the API; stringData never comes back). */
export function secretData(secret: Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/** A ConfigMap's data and binaryData as bytes. */
export function configMapData(configMap: ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(configMap.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(configMap.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}
