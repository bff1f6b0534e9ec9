// Remembers the EndpointSlices this controller wrote until its informer shows them, so that a
// reconcile running on a stale cache does not create a second set of slices (Kubernetes'
// EndpointSliceTracker). Resource versions in Skiff are the store's revisions: a cached slice
// older than the one written is stale.

export class SliceTracker {
  /** Per Service key: slice name → resourceVersion written, or 'deleted'. */
  private readonly expected = new Map<string, Map<string, number | 'deleted'>>();

  wrote(serviceKey: string, name: string, resourceVersion: string | undefined): void {
    this.entries(serviceKey).set(name, Number(resourceVersion ?? 0));
  }

  deleted(serviceKey: string, name: string): void {
    this.entries(serviceKey).set(name, 'deleted');
  }

  /** The informer delivered a slice (or its deletion): forget what it confirms. */
  observed(serviceKey: string, name: string, resourceVersion: string | undefined, gone: boolean): void {
    const map = this.expected.get(serviceKey);
    const want = map?.get(name);
    if (!map || want === undefined) return;
    if (gone || (want !== 'deleted' && Number(resourceVersion ?? 0) >= want)) map.delete(name);
    if (map.size === 0) this.expected.delete(serviceKey);
  }

  /** Whether the cached slices (name → resourceVersion) are behind what this controller wrote. */
  isStale(serviceKey: string, cached: ReadonlyMap<string, string | undefined>): boolean {
    const map = this.expected.get(serviceKey);
    if (!map) return false;
    for (const [name, want] of map) {
      const have = cached.get(name);
      if (want === 'deleted') {
        if (have !== undefined) return true;
      } else if (have === undefined || Number(have) < want) return true;
    }
    return false;
  }

  forget(serviceKey: string): void {
    this.expected.delete(serviceKey);
  }

  private entries(serviceKey: string): Map<string, number | 'deleted'> {
    let map = this.expected.get(serviceKey);
    if (!map) this.expected.set(serviceKey, (map = new Map()));
    return map;
  }
}
