// The HorizontalPodAutoscaler controller (kube-controller-manager's podautoscaler, 1.32). Every
// sync period (15 s) each HPA is reconciled: read its target's scale subresource, select the
// target's pods with Scale.status.selector, read their usage from the metrics.k8s.io API,
// compute the replicas each metric asks for (replicas.ts), keep the highest, stabilize and bound
// it (scaling.ts), write the scale subresource when it changes, and record the status (current
// and desired replicas, current metrics, the AbleToScale / ScalingActive / ScalingLimited
// conditions) and events. Resource and ContainerResource metrics are computed; Pods, Object and
// External metrics need a custom or external metrics API, which Skiff does not serve: they make
// ScalingActive False (FailedGetPodsMetric, FailedGetObjectMetric, FailedGetExternalMetric).

import type {
  CrossVersionObjectReference,
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isConflict } from '../../../api/client.js';
import type { Informer } from '../../../api/informer.js';
import { parseLabelSelector } from '../../../api/labels.js';
import type { LabelSelector } from '../../../api/labels.js';
import type { KubeObject } from '../../../api/objects.js';
import { deepCopy, objectKey } from '../../../api/objects.js';
import { Quantity } from '../../../api/quantity.js';
import { RESOURCES, resourceFor, splitApiVersion } from '../../../api/resources.js';
import type { ResourceType } from '../../../api/resources.js';
import { setStatusCondition } from '../../../api/conditions.js';
import { sameJson } from '../../../api/same-json.js';
import { kubeTime } from '../../../api/time.js';
import { WorkQueue, runWorkers } from '../../../api/workqueue.js';
import { informersSynced } from '../context.js';
import type { Controller, ControllerContext } from '../context.js';
import { NAMESPACE_INDEX, indexByNamespace } from '../ownership/informer-indexes.js';
import { withTypeMeta } from '../pods/pod-control.js';
import { errorMessage, syncErrorLogger } from '../sync-errors.js';
import { MetricsApiSource } from './metrics.js';
import type { ResourceMetricsSource } from './metrics.js';
import { ReplicaCalculationError, averageValueReplicas, utilizationReplicas } from './replicas.js';
import type { CalculatorOptions } from './replicas.js';
import { ScalingHistory } from './scaling.js';
import type { ConditionChange } from './scaling.js';

export const hpaResource = resourceFor('autoscaling', 'horizontalpodautoscalers');
const podsResource = resourceFor('', 'pods');

/** --horizontal-pod-autoscaler-sync-period. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface HorizontalPodAutoscalerControllerOptions {
  /** How often each HPA is reconciled; tests shorten it. */
  syncPeriodMs?: number;
  /** The clock of stabilization windows, policy periods and pod start-up; tests move it. */
  now?: () => number;
  /** Where pod usage comes from; default the metrics.k8s.io API through the controller's client. */
  metrics?: ResourceMetricsSource;
  workers?: number;
}

type Hpa = HorizontalPodAutoscaler & KubeObject;
type Status = { -readonly [K in keyof HorizontalPodAutoscalerStatus]: HorizontalPodAutoscalerStatus[K] };

interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** What one metric asks for, or why it could not say. */
type MetricOutcome =
  | { ok: true; replicas: number; name: string; status: MetricStatus }
  | { ok: false; error: string; condition: ConditionChange };

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  readonly component = 'horizontal-pod-autoscaler';

  constructor(private readonly options: HorizontalPodAutoscalerControllerOptions = {}) {}

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const sync = new HpaSync(ctx, this.options);
    if (!(await informersSynced('horizontalpodautoscaling', signal, sync.waitForSync(signal)))) return;
    await runWorkers(sync.queue, this.options.workers ?? 1, (key) => sync.reconcile(key), signal, syncErrorLogger(ctx.logger, this.name));
  }
}

/** The served resource with a scale subresource that a scaleTargetRef names (the REST mapping). */
function scaleTargetResource(ref: CrossVersionObjectReference): ResourceType | undefined {
  const { group } = splitApiVersion(ref.apiVersion ?? '');
  return RESOURCES.find((r) => r.group === group && r.kind === ref.kind && r.subresources.some((s) => s.name === 'scale'));
}

function setCondition(status: Status, change: ConditionChange, now: number): void {
  const { type, status: value, reason, message } = change;
  status.conditions = setStatusCondition(status.conditions, { type, status: value, lastTransitionTime: kubeTime(now), reason, message });
}

function milliQuantity(milli: number): string {
  return Quantity.fromMilli(Math.trunc(milli)).toString();
}

class HpaSync {
  readonly queue = new WorkQueue<string>({ maxDelayMs: 30_000 });
  private readonly hpas: Informer<Hpa>;
  private readonly pods: Informer<Pod & KubeObject>;
  private readonly history: ScalingHistory;
  private readonly metrics: ResourceMetricsSource;
  private readonly now: () => number;
  private readonly syncPeriodMs: number;

  constructor(
    private readonly ctx: ControllerContext,
    options: HorizontalPodAutoscalerControllerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.syncPeriodMs = options.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.history = new ScalingHistory(this.now);
    this.metrics = options.metrics ?? new MetricsApiSource(ctx.client);
    this.hpas = ctx.informers.informer<Hpa>(hpaResource);
    this.pods = indexByNamespace(ctx.informers.informer<Pod & KubeObject>(podsResource));
    this.hpas.on({
      add: (hpa) => this.queue.add(objectKey(hpa)),
      // Our own status writes must not bring the next sync forward: only a new spec does.
      update: (old, hpa) => {
        if (!sameJson(old.spec, hpa.spec)) this.queue.add(objectKey(hpa));
      },
      delete: (hpa) => this.history.forget(objectKey(hpa)),
    });
  }

  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([this.hpas.waitForSync(signal), this.pods.waitForSync(signal)]);
    for (const hpa of this.hpas.list()) this.queue.add(objectKey(hpa));
  }

  private event(hpa: Hpa, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(withTypeMeta(hpa, hpaResource), type, reason, message);
  }

  async reconcile(key: string): Promise<void | { requeueAfterMs: number }> {
    const cached = this.hpas.get(key);
    if (!cached) {
      this.history.forget(key);
      return;
    }
    const hpa = deepCopy(cached);
    const original: Status = deepCopy(hpa.status ?? { desiredReplicas: 0 });
    const status: Status = deepCopy(original);
    try {
      await this.autoscale(key, hpa, status);
    } finally {
      if (!sameJson(original, status)) await this.ctx.client.updateStatus<Hpa>(hpaResource, hpa.metadata?.namespace, { ...hpa, status });
    }
    return { requeueAfterMs: this.syncPeriodMs };
  }

  /** One sync of one HPA; fills `status` in and writes the scale when it must change. */
  private async autoscale(key: string, hpa: Hpa, status: Status): Promise<void> {
    const now = this.now();
    const spec = hpa.spec!;
    const namespace = hpa.metadata?.namespace ?? '';
    const target = scaleTargetResource(spec.scaleTargetRef);
    let scale: Scale;
    try {
      if (!target) {
        const { group } = splitApiVersion(spec.scaleTargetRef.apiVersion ?? '');
        throw new Error(`no matches for kind "${spec.scaleTargetRef.kind}" in group "${group}"`);
      }
      scale = await this.ctx.client.get<Scale>(target, namespace, spec.scaleTargetRef.name, 'scale');
    } catch (err) {
      this.event(hpa, 'Warning', 'FailedGetScale', errorMessage(err));
      setCondition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}` }, now);
      return;
    }
    setCondition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" }, now);
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.history.recordInitial(key, currentReplicas);
    const minReplicas = spec.minReplicas ?? 1;
    const maxReplicas = spec.maxReplicas;

    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined = status.currentMetrics ? [...status.currentMetrics] : undefined;
    if (currentReplicas === 0 && minReplicas !== 0) {
      // Someone scaled the target to zero: the HPA stands aside until it is scaled up again.
      rescale = false;
      setCondition(status, { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' }, now);
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, status, now);
      metricStatuses = computed.statuses;
      if (computed.replicas === undefined) {
        this.setStatus(status, currentReplicas, status.desiredReplicas ?? 0, metricStatuses, false, now);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error!);
        return;
      }
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = this.history.normalize({ key, currentReplicas, desiredReplicas, minReplicas, maxReplicas, behavior: spec.behavior });
      for (const change of normalized.conditions) setCondition(status, change, now);
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.writeScale(target!, namespace, scale, desiredReplicas);
      } catch (err) {
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errorMessage(err)}`);
        setCondition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${errorMessage(err)}` }, now);
        this.setStatus(status, currentReplicas, status.desiredReplicas ?? 0, metricStatuses, false, now);
        return;
      }
      setCondition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desiredReplicas}` }, now);
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.history.recordScale(key, spec.behavior, currentReplicas, desiredReplicas);
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(status, currentReplicas, desiredReplicas, metricStatuses, rescale, now);
  }

  /**
   * Sets spec.replicas through the scale subresource, on the resourceVersion read. A conflict
   * that only moved the resourceVersion (the target's status changed) is retried on a fresh read;
   * one that changed the replicas leaves the decision to the next sync.
   */
  private async writeScale(target: ResourceType, namespace: string, scale: Scale, replicas: number): Promise<void> {
    let current = scale;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ctx.client.update<Scale>(target, namespace, { ...current, spec: { ...current.spec, replicas } }, { subresource: 'scale' });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 3) throw err;
        const fresh = await this.ctx.client.get<Scale>(target, namespace, scale.metadata?.name ?? '', 'scale');
        if (fresh.spec?.replicas !== scale.spec?.replicas) throw err;
        current = fresh;
      }
    }
  }

  private setStatus(status: Status, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[] | undefined, rescaled: boolean, now: number): void {
    // v2's currentReplicas is omitempty, desiredReplicas is not (as Go writes them).
    if (currentReplicas) status.currentReplicas = currentReplicas;
    else delete status.currentReplicas;
    status.desiredReplicas = desiredReplicas;
    if (metrics && metrics.length > 0) status.currentMetrics = metrics;
    else delete status.currentMetrics;
    if (rescaled) status.lastScaleTime = kubeTime(now);
  }

  /**
   * The highest count any metric asks for. `replicas` is undefined when no metric could be
   * computed, or when some failed and the others ask for fewer than now (scaling down on partial
   * data could be wrong); `error` then says why.
   */
  private async computeReplicasForMetrics(
    hpa: Hpa,
    scale: Scale,
    status: Status,
    now: number,
  ): Promise<{ replicas?: number; metric?: string; statuses: MetricStatus[]; error?: string }> {
    const specs = hpa.spec?.metrics ?? [];
    const selectorText = scale.status?.selector ?? '';
    if (!selectorText) {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition(status, { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" }, now);
      return { statuses: [], error: 'selector is required' };
    }
    let selector: LabelSelector;
    try {
      selector = parseLabelSelector(selectorText);
    } catch (err) {
      const message = `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`;
      this.event(hpa, 'Warning', 'InvalidSelector', message);
      setCondition(status, { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message }, now);
      return { statuses: [], error: message };
    }
    const namespace = hpa.metadata?.namespace ?? '';
    const pods = this.pods.byIndex(NAMESPACE_INDEX, namespace).filter((p) => selector.matches(p.metadata?.labels));
    const specReplicas = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = [];
    let replicas: number | undefined;
    let metric = '';
    let invalid = 0;
    let firstFailure: Extract<MetricOutcome, { ok: false }> | undefined;
    for (const spec of specs) {
      const outcome = await this.computeMetric(hpa, spec, specReplicas, selectorText, pods, now);
      if (!outcome.ok) {
        // A metric that could not be read still has its place in currentMetrics.
        statuses.push({ type: '' } as MetricStatus);
        invalid++;
        firstFailure ??= outcome;
        continue;
      }
      statuses.push(outcome.status);
      if (replicas === undefined || outcome.replicas > replicas) {
        replicas = outcome.replicas;
        metric = outcome.name;
      }
    }
    const invalidError = firstFailure && `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstFailure.error}`;
    if (firstFailure && (replicas === undefined || replicas < specReplicas)) {
      setCondition(status, firstFailure.condition, now);
      return { statuses, error: invalidError };
    }
    setCondition(status, { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${metric}` }, now);
    // Some metrics failed but the others ask to scale up: scale on them, and say so.
    if (invalidError) this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', invalidError);
    return { replicas, metric, statuses };
  }

  /** The replicas one metric asks for; a failure records its event, as Kubernetes does. */
  private async computeMetric(hpa: Hpa, spec: MetricSpec, specReplicas: number, selector: string, pods: readonly Pod[], now: number): Promise<MetricOutcome> {
    const fail = (reason: string, detail: string, wrap: string): MetricOutcome => {
      this.event(hpa, 'Warning', reason, detail);
      return {
        ok: false,
        error: `${wrap}: ${detail}`,
        condition: { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${detail}` },
      };
    };
    const namespace = hpa.metadata?.namespace ?? '';
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const name = source?.name ?? '';
        const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
        const reason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
        const wrap = spec.type === 'Resource' ? `failed to get ${name} resource metric value` : `failed to get ${name} container metric value`;
        const target = source?.target;
        const byValue = target?.averageValue !== undefined;
        try {
          if (!byValue && typeof target?.averageUtilization !== 'number') {
            throw new ReplicaCalculationError('invalid resource metric source: neither a utilization target nor a value target was set');
          }
          let usage;
          try {
            usage = await this.metrics.podUsage(namespace, selector, name, container);
          } catch (err) {
            throw new ReplicaCalculationError(`unable to get metrics for resource ${name}: ${errorMessage(err)}`);
          }
          const options: CalculatorOptions = { nowMs: now };
          const described = container ? `${name} resource utilization (percentage of request) of container ${container}` : `${name} resource utilization (percentage of request)`;
          if (byValue) {
            const targetMilli = Quantity.parse(target.averageValue!).milliValue();
            const result = averageValueReplicas(specReplicas, targetMilli, name, pods, usage, options);
            const current = { averageValue: milliQuantity(result.averageMilli) };
            return {
              ok: true,
              replicas: result.replicas,
              name: container ? `${name} container resource of container ${container}` : `${name} resource`,
              status: container ? { type: spec.type, containerResource: { name, container, current } } : { type: spec.type, resource: { name, current } },
            };
          }
          const result = utilizationReplicas(specReplicas, target!.averageUtilization!, name, pods, usage, options, container);
          const current = { averageUtilization: result.utilization, averageValue: milliQuantity(result.rawAverageMilli) };
          return {
            ok: true,
            replicas: result.replicas,
            name: described,
            status: container ? { type: spec.type, containerResource: { name, container, current } } : { type: spec.type, resource: { name, current } },
          };
        } catch (err) {
          if (!(err instanceof ReplicaCalculationError)) throw err;
          return fail(reason, `failed to get ${name} ${byValue ? 'usage' : 'utilization'}: ${err.message}`, wrap);
        }
      }
      case 'Pods':
        return fail('FailedGetPodsMetric', `unable to get metric ${spec.pods?.metric?.name ?? ''}: Skiff serves no custom metrics API (custom.metrics.k8s.io)`, 'failed to get pods metric value');
      case 'Object':
        return fail('FailedGetObjectMetric', `unable to get metric ${spec.object?.metric?.name ?? ''}: Skiff serves no custom metrics API (custom.metrics.k8s.io)`, 'failed to get object metric value');
      case 'External':
        return fail(
          'FailedGetExternalMetric',
          `unable to get external metric ${namespace}/${spec.external?.metric?.name ?? ''}: Skiff serves no external metrics API (external.metrics.k8s.io)`,
          `failed to get ${spec.external?.metric?.name ?? ''} external metric value`,
        );
      default:
        return fail('InvalidMetricSourceType', `unknown metric source type "${String(spec.type)}"`, 'invalid metric source');
    }
  }
}
