// Per-kind behaviour of the generic registry, in the manner of kube-apiserver's RESTStrategy:
// what a create resets, what an update may change, which fields a field selector can use, and
// how deletion proceeds. Defaulting and validation live in ../defaults and ../validation.

import type { Pod, PodSpec, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';
import { carryOverServiceAllocations } from '../defaults/index.js';
import { isTerminalPhase } from '../../../api/pod-phase.js';

export interface DeleteRequest {
  gracePeriodSeconds?: number;
}

export interface Strategy {
  /** Kinds with a status subresource: the main resource cannot change status and vice versa. */
  readonly hasStatusSubresource: boolean;
  /** apps and batch kinds count spec changes in metadata.generation (observed by controllers). */
  readonly tracksGeneration: boolean;
  /** Whether PUT on an absent object creates it (kube-apiserver: true for a few kinds only). */
  readonly allowCreateOnUpdate: boolean;
  /** Whether deleted objects are returned in the DELETE response (pods do, most kinds send a Status). */
  readonly returnDeletedObject: boolean;
  /** Called on create after system fields (uid, timestamps) are set and defaults applied. */
  prepareForCreate(obj: KubeObject): void;
  /** Called on update of the main resource or of a subresource with the old object. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** The values of the fields this kind supports in field selectors. */
  selectableFields(obj: KubeObject): Record<string, string>;
  /**
   * For graceful deletion: the grace period to apply, or 0 to delete at once. Undefined means
   * the kind has no graceful deletion.
   */
  gracePeriod?(obj: KubeObject, request: DeleteRequest): number;
}

function metaFields(obj: KubeObject, namespaced: boolean): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
  if (namespaced) fields['metadata.namespace'] = obj.metadata?.namespace ?? '';
  return fields;
}

function baseStrategy(r: ResourceType, overrides: Partial<Strategy> = {}): Strategy {
  const hasStatus = r.subresources.some((s) => s.name === 'status');
  return {
    hasStatusSubresource: hasStatus,
    tracksGeneration: false,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    prepareForCreate(obj) {
      // Status is written by controllers and agents, never by whoever creates the object.
      if (hasStatus) delete obj['status'];
    },
    prepareForUpdate() {},
    selectableFields: (obj) => metaFields(obj, r.namespaced),
    ...overrides,
  };
}

/** Pod QoS class as Kubernetes derives it from requests and limits (pkg/apis/core/helper/qos). */
export function podQOSClass(spec: PodSpec | undefined): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const res of ['cpu', 'memory']) {
      const req = requests[res];
      const lim = limits[res];
      if (req !== undefined || lim !== undefined) anySet = true;
      if (lim === undefined || (req !== undefined && String(req) !== String(lim))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const podStrategy = (r: ResourceType): Strategy =>
  baseStrategy(r, {
    returnDeletedObject: true,
    prepareForCreate(obj) {
      const pod = obj as Pod;
      obj['status'] = { phase: 'Pending', qosClass: podQOSClass(pod.spec) };
    },
    selectableFields(obj) {
      const pod = obj as Pod;
      return {
        ...metaFields(obj, true),
        'spec.nodeName': pod.spec?.nodeName ?? '',
        'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
        'spec.schedulerName': pod.spec?.schedulerName ?? '',
        'spec.serviceAccountName': pod.spec?.serviceAccountName ?? '',
        'spec.hostNetwork': String(pod.spec?.hostNetwork ?? false),
        'status.phase': pod.status?.phase ?? '',
        'status.podIP': pod.status?.podIP ?? '',
        'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
      };
    },
    // A pod that never reached a node, or has finished, has nothing to stop: delete it at once
    // (pkg/registry/core/pod/strategy.go CheckGracefulDelete).
    gracePeriod(obj, request) {
      const pod = obj as Pod;
      if (!pod.spec?.nodeName) return 0;
      if (isTerminalPhase(pod.status?.phase)) return 0;
      return request.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    },
  });

const workloadStrategy = (r: ResourceType, extra: Partial<Strategy> = {}): Strategy =>
  baseStrategy(r, { tracksGeneration: true, ...extra });

/**
 * A Job gets a selector and pod labels naming its own uid unless the user asked to manage the
 * selector (`spec.manualSelector`), so two Jobs never adopt each other's pods.
 */
function jobPrepareForCreate(obj: KubeObject): void {
  delete obj['status'];
  const job = obj as Job & KubeObject;
  if (!job.spec || job.spec.manualSelector) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const generated = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  job.spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  job.spec.template = {
    ...job.spec.template,
    metadata: { ...job.spec.template.metadata, labels: { ...job.spec.template.metadata?.labels, ...generated } },
  };
}

export function strategyFor(r: ResourceType): Strategy {
  const id = `${r.group}/${r.plural}`;
  switch (id) {
    case '/pods':
      return podStrategy(r);
    case '/namespaces':
      return baseStrategy(r, {
        prepareForCreate(obj) {
          obj['status'] = { phase: 'Active' };
        },
        selectableFields: (obj) => ({
          ...metaFields(obj, false),
          'status.phase': String((obj['status'] as { phase?: string } | undefined)?.phase ?? ''),
        }),
      });
    case '/nodes':
      return baseStrategy(r, {
        allowCreateOnUpdate: false,
        // Nodes keep every field on create, status included: the kubelet registers its node with
        // capacity, allocatable, addresses and nodeInfo in one request (pkg/registry/core/node).
        prepareForCreate() {},
        selectableFields: (obj) => ({
          ...metaFields(obj, false),
          'spec.unschedulable': String((obj['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable ?? false),
        }),
      });
    case '/services':
      return baseStrategy(r, {
        prepareForCreate(obj) {
          obj['status'] = { loadBalancer: {} };
        },
        prepareForUpdate(obj, old) {
          // An update that leaves the ClusterIP or a node port empty keeps the allocated one, as
          // kube-apiserver does (`kubectl replace` of a manifest without them must not reallocate).
          carryOverServiceAllocations(obj, old);
          dropTypeDependentFields(obj, old);
        },
      });
    case '/secrets':
      return baseStrategy(r, {
        selectableFields: (obj) => ({ ...metaFields(obj, true), type: String(obj['type'] ?? '') }),
      });
    case '/events':
    case 'events.k8s.io/events':
      return baseStrategy(r, {
        allowCreateOnUpdate: true,
        selectableFields: eventFields,
      });
    case 'coordination.k8s.io/leases':
      return baseStrategy(r, { allowCreateOnUpdate: true });
    case '/endpoints':
      return baseStrategy(r, { allowCreateOnUpdate: true });
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets':
    case 'batch/cronjobs':
      return workloadStrategy(r);
    case 'batch/jobs':
      return workloadStrategy(r, { prepareForCreate: jobPrepareForCreate });
    case 'autoscaling/horizontalpodautoscalers':
      return baseStrategy(r, {
        prepareForCreate(obj) {
          // Go writes the status' non-optional counts even before the controller's first sync.
          obj['status'] = r.version === 'v1' ? { currentReplicas: 0, desiredReplicas: 0 } : { desiredReplicas: 0 };
        },
      });
    case 'policy/poddisruptionbudgets':
      // Spec changes count in generation: eviction trusts a PDB's status only once the
      // disruption controller has observed the current generation.
      return workloadStrategy(r, {
        prepareForCreate(obj) {
          // Go writes the status' non-optional counts even before the controller's first sync.
          obj['status'] = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
        },
      });
    default:
      return baseStrategy(r);
  }
}

/**
 * When a Service changes type, fields that only the old type had are cleared unless the update
 * set them itself (kube-apiserver's dropTypeDependentFields): NodePort → ClusterIP drops the node
 * ports and externalTrafficPolicy the old object carried.
 */
function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const spec = obj['spec'] as ServiceSpec | undefined;
  const oldSpec = old['spec'] as ServiceSpec | undefined;
  if (!spec || !oldSpec || spec.type === oldSpec.type) return;
  const external = (type: string | undefined) => type === 'NodePort' || type === 'LoadBalancer';
  if (external(oldSpec.type) && !external(spec.type)) {
    for (const port of spec.ports ?? []) {
      const before = oldSpec.ports?.find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
      if (port.nodePort !== undefined && port.nodePort === before?.nodePort) delete port.nodePort;
    }
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
}

/** Events are stored in their core/v1 form; these are the fields kubectl describe selects on. */
function eventFields(obj: KubeObject): Record<string, string> {
  const involved = (obj['involvedObject'] ?? {}) as Record<string, string | undefined>;
  const source = (obj['source'] ?? {}) as { component?: string };
  return {
    ...metaFields(obj, true),
    'involvedObject.kind': involved['kind'] ?? '',
    'involvedObject.namespace': involved['namespace'] ?? '',
    'involvedObject.name': involved['name'] ?? '',
    'involvedObject.uid': involved['uid'] ?? '',
    'involvedObject.apiVersion': involved['apiVersion'] ?? '',
    'involvedObject.resourceVersion': involved['resourceVersion'] ?? '',
    'involvedObject.fieldPath': involved['fieldPath'] ?? '',
    reason: String(obj['reason'] ?? ''),
    reportingComponent: String(obj['reportingComponent'] ?? ''),
    source: source.component ?? '',
    type: String(obj['type'] ?? ''),
  };
}
