// The pods whose tracking finalizer a Job's sync is removing: until the informer shows the
// finalizer gone (or the pod deleted), a later sync must not count those pods again.

export class FinalizerRemovals {
  private readonly byJob = new Map<string, Set<string>>();

  expect(jobKey: string, uids: readonly string[]): void {
    if (uids.length === 0) return;
    let set = this.byJob.get(jobKey);
    if (!set) this.byJob.set(jobKey, (set = new Set()));
    for (const uid of uids) set.add(uid);
  }

  observed(jobKey: string, uid: string): void {
    const set = this.byJob.get(jobKey);
    set?.delete(uid);
    if (set?.size === 0) this.byJob.delete(jobKey);
  }

  pending(jobKey: string): ReadonlySet<string> {
    return new Set(this.byJob.get(jobKey) ?? []);
  }

  delete(jobKey: string): void {
    this.byJob.delete(jobKey);
  }
}
