// Defaulting of the objects users write, per kind, as kube-apiserver does when it decodes a
// request: absent fields get Kubernetes' defaults so that what is stored and returned reads like
// Kubernetes' own objects. Mutates the object in place and is idempotent, so it can run on every
// create and update. Allocation (cluster IPs, node ports) and system fields are the server's.

import type { KubeObject } from '../../../api/objects.js';
import type { ResourceType } from '../../../api/resources.js';
import { defaultHorizontalPodAutoscaler } from './autoscaling.js';
import { defaultEndpoints, defaultLimitRange, defaultNamespace, defaultResourceQuota, defaultNode, defaultPod, defaultSecret, defaultService } from './core.js';
import { defaultEndpointSlice } from './discovery.js';
import { defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet } from './workloads.js';

type Defaulter = (obj: Record<string, unknown>) => void;

const DEFAULTERS: Record<string, Defaulter> = {
  '/Pod': defaultPod,
  '/Service': defaultService,
  '/Namespace': defaultNamespace,
  '/Secret': defaultSecret,
  '/Endpoints': defaultEndpoints,
  '/Node': defaultNode,
  '/LimitRange': defaultLimitRange,
  '/ResourceQuota': defaultResourceQuota,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/DaemonSet': defaultDaemonSet,
  'apps/StatefulSet': defaultStatefulSet,
  'batch/Job': defaultJob,
  'batch/CronJob': defaultCronJob,
  'autoscaling/HorizontalPodAutoscaler': defaultHorizontalPodAutoscaler,
};

export function applyDefaults(resource: ResourceType, obj: KubeObject): void {
  DEFAULTERS[`${resource.group}/${resource.kind}`]?.(obj);
}


export { carryOverServiceAllocations } from './service-update.js';
