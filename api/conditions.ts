// Status conditions as apimachinery's meta.SetStatusCondition keeps them: one per type, replaced
// in place, the transition time kept while the status stays the same. (Deployments and Jobs have
// rules of their own: controllers/deployment/conditions.ts, controllers/job/conditions.ts.)

export interface StatusCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/** `conditions` with `next` set in place of the one of its type (or added at the end). */
export function setStatusCondition<C extends StatusCondition>(conditions: readonly C[] | undefined, next: C): C[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  if (i < 0) return [...list, next];
  const old = list[i]!;
  list[i] = { ...next, lastTransitionTime: old.status === next.status ? old.lastTransitionTime : next.lastTransitionTime };
  return list;
}
