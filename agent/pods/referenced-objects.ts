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

interface Entry {
  /** The last answer and when it was read; absent until one read succeeded. */
  answer?: { value: unknown; atMs: number };
  /** A read under way: callers arriving meanwhile share it. */
  pending?: Promise<unknown>;
}

const MAX_ENTRIES = 1000;

export class ReferencedObjects {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 1000,
  ) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.cached(`configmaps/${namespace}/${name}`, () => this.getOrUndefined(configMaps, namespace, name), false) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.cached(`secrets/${namespace}/${name}`, () => this.getOrUndefined(secrets, namespace, name), false) as Promise<Secret | undefined>;
  }

  /**
   * The Services of a namespace (for service environment variables), cached like the rest. When
   * the API cannot be reached, the last list read stands in (as the kubelet's informer cache
   * does), so that containers keep restarting through an API outage.
   */
  services(namespace: string): Promise<Service[]> {
    return this.cached(`services/${namespace}`, async () => (await this.client.list(services, namespace)).items as unknown as Service[], true);
  }

  private async getOrUndefined(resource: typeof configMaps, namespace: string, name: string): Promise<ConfigMap | Secret | undefined> {
    try {
      return (await this.client.get(resource, namespace, name)) as unknown as ConfigMap | Secret;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * An answer younger than the TTL, else a fresh read, shared by every caller that asks while it
   * runs (a pod's containers start together and read the same objects). A failed read caches
   * nothing; with `staleOnOutage`, a transport failure answers with the last value instead.
   */
  private cached<T>(key: string, read: () => Promise<T>, staleOnOutage: boolean): Promise<T> {
    const entry = this.entries.get(key) ?? {};
    if (entry.pending) return entry.pending as Promise<T>;
    if (entry.answer && Date.now() - entry.answer.atMs < this.ttlMs) return Promise.resolve(entry.answer.value as T);
    const pending = read().then(
      (value) => {
        this.entries.set(key, { answer: { value, atMs: Date.now() } });
        if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
        return value;
      },
      (err: unknown) => {
        delete entry.pending;
        if (staleOnOutage && entry.answer && !(err instanceof StatusError)) return entry.answer.value as T;
        throw err;
      },
    );
    entry.pending = pending;
    this.entries.set(key, entry);
    return pending;
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
