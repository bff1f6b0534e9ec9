// Indexed Jobs (completionMode: Indexed): every pod carries a completion index in
// [0, completions); the Job is complete once every index has a pod that succeeded. The set of
// succeeded indexes is kept in status.completedIndexes as ordered intervals ("0-2,5"), which is
// also how it is counted: an index counts once however many of its pods succeed.

import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive } from '../pods/pod-state.js';
import type { PodObject } from '../pods/pod-control.js';

/** Annotation and (since PodIndexLabel, on by default in 1.32) label naming a pod's index. */
export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** A generated name's prefix may be at most 63 − 5 characters (names.MaxGeneratedNameLength). */
const MAX_GENERATED_NAME_LENGTH = 58;

export function isIndexed(job: Job): boolean {
  return job.spec?.completionMode === 'Indexed';
}

/** The pod's completion index, or undefined when it has none that parses. */
export function completionIndexOf(pod: Pod): number | undefined {
  const value = pod.metadata?.annotations?.[COMPLETION_INDEX_KEY];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const index = Number(value);
  return Number.isSafeInteger(index) ? index : undefined;
}

/** Parses "1,3-5" into a sorted set of indexes below `completions`; bad parts are skipped. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = Math.min(Number(m[2] ?? m[1]), completions - 1);
    for (let i = first; i <= last; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as ordered intervals: [0,1,2,5] → "0-2,5". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The Job's succeeded indexes: those recorded in its status plus those of pods that succeeded. */
export function succeededIndexes(job: Job, pods: readonly Pod[]): Set<number> {
  const completions = job.spec?.completions ?? 0;
  const out = parseIndexes(job.status?.completedIndexes, completions);
  for (const pod of pods) {
    const index = completionIndexOf(pod);
    if (pod.status?.phase === 'Succeeded' && index !== undefined && index < completions) out.add(index);
  }
  return out;
}

/**
 * Active pods that must go: those without a valid index, with an index out of range or already
 * succeeded, and all but one of the pods sharing an index (the one kept is the furthest along).
 */
export function surplusIndexedPods(job: Job, active: readonly Pod[], succeeded: ReadonlySet<number>): Pod[] {
  const completions = job.spec?.completions ?? 0;
  const byIndex = new Map<number, Pod[]>();
  const surplus: Pod[] = [];
  for (const pod of active) {
    const index = completionIndexOf(pod);
    if (index === undefined || index >= completions || succeeded.has(index)) surplus.push(pod);
    else if (byIndex.has(index)) byIndex.get(index)!.push(pod);
    else byIndex.set(index, [pod]);
  }
  const rank = (p: Pod) => (p.status?.phase === 'Running' ? 2 : p.spec?.nodeName ? 1 : 0);
  for (const pods of byIndex.values()) {
    if (pods.length < 2) continue;
    const keep = pods.reduce((best, p) => (rank(p) > rank(best) ? p : best));
    surplus.push(...pods.filter((p) => p !== keep));
  }
  return surplus;
}

/** The lowest `count` indexes that neither succeeded nor have an active pod (firstPendingIndexes). */
export function pendingIndexes(job: Job, pods: readonly Pod[], succeeded: ReadonlySet<number>, count: number): number[] {
  const completions = job.spec?.completions ?? 0;
  const taken = new Set(succeeded);
  for (const pod of pods) {
    const index = completionIndexOf(pod);
    if (index !== undefined && isPodActive(pod)) taken.add(index);
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

function withIndexEnv(container: Container): Container {
  if (container.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) return container;
  const fieldPath = `metadata.labels['${COMPLETION_INDEX_KEY}']`;
  return { ...container, env: [...(container.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath } } }] };
}

/**
 * Makes a pod built from the template the pod of `index`: annotation and label, the hostname
 * `<job>-<index>`, the generated name `<job>-<index>-`, and JOB_COMPLETION_INDEX in every container.
 */
export function assignIndex(pod: PodObject, jobName: string, index: number): PodObject {
  const suffix = `-${index}-`;
  let prefix = `${jobName}${suffix}`;
  if (prefix.length > MAX_GENERATED_NAME_LENGTH) prefix = `${jobName.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length)}${suffix}`;
  const spec = pod.spec!;
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      generateName: prefix,
      annotations: { ...pod.metadata?.annotations, [COMPLETION_INDEX_KEY]: String(index) },
      labels: { ...pod.metadata?.labels, [COMPLETION_INDEX_KEY]: String(index) },
    },
    spec: {
      ...spec,
      hostname: `${jobName}-${index}`,
      containers: spec.containers.map(withIndexEnv),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(withIndexEnv) } : {}),
    },
  };
}
