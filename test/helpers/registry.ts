// A Registry on an in-memory SQLite store with its watch cache, without the API server's hooks
// (no defaults, no validation): for tests of the registry and the cache themselves.

import type { ResourceType } from '../../api/resources.js';
import { storagePrefix } from '../../controlplane/apiserver/registry/codec.js';
import { Registry } from '../../controlplane/apiserver/registry/registry.js';
import type { RegistryHooks } from '../../controlplane/apiserver/registry/registry.js';
import { strategyFor } from '../../controlplane/apiserver/registry/strategy.js';
import { WatchCache } from '../../controlplane/apiserver/watchcache.js';
import { SqliteStore } from '../../controlplane/store/sqlite.js';

const noHooks: RegistryHooks = {
  applyDefaults: () => undefined,
  validateCreate: () => [],
  validateUpdate: () => [],
  validateStatusUpdate: () => [],
  checkNamespaceForCreate: async () => undefined,
};

export interface BareRegistry {
  store: SqliteStore;
  cache: WatchCache;
  registry: Registry;
}

export async function bareRegistry(resource: ResourceType): Promise<BareRegistry> {
  const store = SqliteStore.open(':memory:');
  const cache = new WatchCache(store, storagePrefix(resource));
  await cache.start();
  return { store, cache, registry: new Registry(resource, store, strategyFor(resource), cache, noHooks) };
}
