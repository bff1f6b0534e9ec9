// The scheduler and controllers the elected `skiff server` runs, with their configuration.
// To add a controller: give it a Controller (./context.ts) and append it to `allControllers`.

import { DEFAULT_SCHEDULER_NAME, schedulerController } from '../scheduler/scheduler.js';
import type { Controller } from './context.js';
import { CronJobController } from './cronjob/controller.js';
import { DaemonSetController } from './daemonset/controller.js';
import { DeploymentController } from './deployment/controller.js';
import { DisruptionController } from './disruption/controller.js';
import { EndpointSliceController } from './endpointslice/controller.js';
import { EndpointsController } from './endpointslice/endpoints-controller.js';
import { garbageCollectorController } from './garbagecollector/controller.js';
import { JobController } from './job/controller.js';
import { namespaceController } from './namespace/controller.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, nodeIpamController } from './nodeipam/controller.js';
import { DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS, DEFAULT_NODE_MONITOR_PERIOD_MS, nodeLifecycleController } from './nodelifecycle/controller.js';
import { nodePasswordController } from './nodepassword/controller.js';
import { DEFAULT_SYNC_PERIOD_MS as DEFAULT_HPA_SYNC_PERIOD_MS, HorizontalPodAutoscalerController } from './podautoscaler/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { ResourceQuotaController } from './resourcequota/controller.js';
import { StatefulSetController } from './statefulset/controller.js';

export interface ControllersConfig {
  /** --cluster-cidr: the range pod CIDRs come from. */
  clusterCidr: string;
  /** --node-cidr-mask-size: the prefix length of each node's pod CIDR. */
  nodeCidrMaskSize: number;
  /** --node-monitor-grace-period. */
  nodeMonitorGracePeriodMs: number;
  /** --node-monitor-period. */
  nodeMonitorPeriodMs: number;
  schedulerName: string;
  /**
   * How often each HorizontalPodAutoscaler is reconciled (Kubernetes' 15 s; no flag, as
   * --horizontal-pod-autoscaler-sync-period is rarely changed: tests shorten it).
   */
  horizontalPodAutoscalerSyncPeriodMs: number;
}

export const DEFAULT_CONTROLLERS_CONFIG: ControllersConfig = {
  clusterCidr: DEFAULT_CLUSTER_CIDR,
  nodeCidrMaskSize: DEFAULT_NODE_CIDR_MASK_SIZE,
  nodeMonitorGracePeriodMs: DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
  nodeMonitorPeriodMs: DEFAULT_NODE_MONITOR_PERIOD_MS,
  schedulerName: DEFAULT_SCHEDULER_NAME,
  horizontalPodAutoscalerSyncPeriodMs: DEFAULT_HPA_SYNC_PERIOD_MS,
};

export function allControllers(partial: Partial<ControllersConfig> = {}): Controller[] {
  const config = { ...DEFAULT_CONTROLLERS_CONFIG, ...partial };
  return [
    schedulerController({ schedulerName: config.schedulerName }),
    nodeIpamController({ clusterCidr: config.clusterCidr, nodeCidrMaskSize: config.nodeCidrMaskSize }),
    nodeLifecycleController({ gracePeriodMs: config.nodeMonitorGracePeriodMs, monitorPeriodMs: config.nodeMonitorPeriodMs }),
    nodePasswordController(),
    garbageCollectorController(),
    namespaceController(),
    new ReplicaSetController(),
    new DeploymentController(),
    new DaemonSetController(),
    new StatefulSetController(),
    new JobController(),
    new CronJobController(),
    new HorizontalPodAutoscalerController({ syncPeriodMs: config.horizontalPodAutoscalerSyncPeriodMs }),
    new DisruptionController(),
    new ResourceQuotaController(),
    new EndpointSliceController(),
    new EndpointsController(),
  ];
}
