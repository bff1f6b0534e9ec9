// Events about pods and their containers, as the kubelet reports them (component `kubelet`,
// the node as host; container events carry the field path `spec.containers{name}`), so that
// `kubectl describe pod` tells the pod's story.

import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { EventRecorder, EventType } from '../../api/events.js';
import type { KubeObject } from '../../api/objects.js';

function podReference(pod: Pod): KubeObject {
  const meta = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
  };
}

export function containerFieldPath(pod: Pod, containerName: string): string {
  const isInit = (pod.spec?.initContainers ?? []).some((c) => c.name === containerName);
  return `spec.${isInit ? 'initContainers' : 'containers'}{${containerName}}`;
}

export class PodEvents {
  constructor(private readonly recorder: EventRecorder) {}

  pod(pod: Pod, type: EventType, reason: string, message: string): void {
    this.recorder.event(podReference(pod), type, reason, message);
  }

  container(pod: Pod, container: Pick<Container, 'name'>, type: EventType, reason: string, message: string): void {
    this.recorder.event(podReference(pod), type, reason, message, containerFieldPath(pod, container.name));
  }
}
