// DefaultTolerationSeconds (a kube-apiserver admission plugin, on pod create and update): a pod
// that does not tolerate the `not-ready` and `unreachable` NoExecute taints gets tolerations for
// them with tolerationSeconds (flags --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds, 300 by default), so that its pods stay on a failed
// node for that long before the node lifecycle controller evicts them.

import type { Toleration } from 'kubernetes-types/core/v1.js';
import { child, objectsIn } from './values.js';

export interface DefaultTolerationSeconds {
  notReady: number;
  unreachable: number;
}

export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds = { notReady: 300, unreachable: 300 };

/** A toleration already covers `key` for NoExecute when it names the key (or none) and NoExecute (or no effect). */
function covers(toleration: Record<string, unknown>, key: string): boolean {
  const tKey = toleration['key'];
  const effect = toleration['effect'];
  return (tKey === key || !tKey) && (effect === 'NoExecute' || !effect);
}

export function addDefaultTolerations(pod: Record<string, unknown>, seconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS): void {
  const spec = child(pod, 'spec');
  const tolerations = objectsIn(spec['tolerations']);
  const added: Toleration[] = [];
  const wanted: [string, number][] = [
    ['node.kubernetes.io/not-ready', seconds.notReady],
    ['node.kubernetes.io/unreachable', seconds.unreachable],
  ];
  for (const [key, tolerationSeconds] of wanted) {
    if (!tolerations.some((t) => covers(t, key))) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds });
  }
  if (added.length > 0) spec['tolerations'] = [...(Array.isArray(spec['tolerations']) ? spec['tolerations'] : []), ...added];
}
