// Expectations, as kube-controller-manager keeps them: a controller remembers the creations and
// deletions it has asked for and not yet seen in its informer cache, and does not act on that
// owner again until it has seen them (or they expired). Without this a reconcile that runs
// before the informer delivered the pods it just created would create them a second time.
// Deletions are tracked by pod key (UIDTrackingControllerExpectations) so that a deletion seen
// twice, or one the controller did not ask for, is not miscounted.

/** client-go's ExpectationsTimeout: a lost watch event cannot stall an owner for longer. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record {
  creations: number;
  deletions: Set<string>;
  setAt: number;
}

export class Expectations {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly ttlMs: number = EXPECTATIONS_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the controller may act on `ownerKey`: nothing pending, or the pending items expired. */
  satisfied(ownerKey: string): boolean {
    const r = this.records.get(ownerKey);
    if (!r) return true;
    if (r.creations <= 0 && r.deletions.size === 0) return true;
    return this.now() - r.setAt > this.ttlMs;
  }

  /**
   * Replaces the owner's expectations with `creations` pods to appear and the deletion of these
   * pods (keys `ns/name`); a sync may ask for both, as the DaemonSet's does.
   */
  expect(ownerKey: string, creations: number, deletedPodKeys: readonly string[]): void {
    this.records.set(ownerKey, { creations, deletions: new Set(deletedPodKeys), setAt: this.now() });
  }

  /** A pod of this owner appeared in the cache (or a creation failed / was skipped). */
  creationObserved(ownerKey: string, count = 1): void {
    const r = this.records.get(ownerKey);
    if (r) r.creations -= count;
  }

  /** A pod disappeared or started terminating (or its deletion failed). */
  deletionObserved(ownerKey: string, podKey: string): void {
    this.records.get(ownerKey)?.deletions.delete(podKey);
  }

  /** What is still pending (for logs and tests). */
  pending(ownerKey: string): { creations: number; deletions: number } {
    const r = this.records.get(ownerKey);
    return { creations: Math.max(0, r?.creations ?? 0), deletions: r?.deletions.size ?? 0 };
  }

  /** Forgets an owner that was deleted. */
  delete(ownerKey: string): void {
    this.records.delete(ownerKey);
  }
}
