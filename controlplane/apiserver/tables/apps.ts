// Tables for apps/v1: deployments, replica sets, daemon sets, stateful sets and controller
// revisions. Kubernetes defaults an unset `spec.replicas` to 1, so the printers do too.

import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { timeSince } from './duration.js';
import { formatLabels, formatLabelSelector, labelSelectorString } from './labels.js';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, column, containerCells, printer } from './printer.js';

const SELECTOR_COLUMN = column('Selector', 'string', 'Label selector of the pods the controller manages.', { priority: 1 });

export const deploymentPrinter = printer<Deployment>(
  [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready replicas out of desired replicas.'),
    column('Up-to-date', 'string', 'Replicas that run the current pod template.'),
    column('Available', 'string', 'Replicas that have been ready for at least minReadySeconds.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  (d, now) => [
    d.metadata?.name ?? '',
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
    d.status?.updatedReplicas ?? 0,
    d.status?.availableReplicas ?? 0,
    timeSince(d.metadata?.creationTimestamp, now),
    ...containerCells(d.spec?.template?.spec?.containers),
    // Unlike the other workloads, deployments show an empty selector as nothing at all.
    labelSelectorString(d.spec?.selector) ?? '<invalid>',
  ],
);

export const replicaSetPrinter = printer<ReplicaSet>(
  [
    NAME_COLUMN,
    column('Desired', 'integer', 'Number of replicas wanted.'),
    column('Current', 'integer', 'Number of replicas that exist.'),
    column('Ready', 'integer', 'Number of ready replicas.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  (rs, now) => [
    rs.metadata?.name ?? '',
    rs.spec?.replicas ?? 1,
    rs.status?.replicas ?? 0,
    rs.status?.readyReplicas ?? 0,
    timeSince(rs.metadata?.creationTimestamp, now),
    ...containerCells(rs.spec?.template?.spec?.containers),
    formatLabelSelector(rs.spec?.selector),
  ],
);

export const daemonSetPrinter = printer<DaemonSet>(
  [
    NAME_COLUMN,
    column('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    column('Current', 'integer', 'Nodes that run at least one daemon pod.'),
    column('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'Nodes that run the current pod template.'),
    column('Available', 'integer', 'Nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'Node labels the daemon pods are restricted to.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  (ds, now) => [
    ds.metadata?.name ?? '',
    ds.status?.desiredNumberScheduled ?? 0,
    ds.status?.currentNumberScheduled ?? 0,
    ds.status?.numberReady ?? 0,
    ds.status?.updatedNumberScheduled ?? 0,
    ds.status?.numberAvailable ?? 0,
    formatLabels(ds.spec?.template?.spec?.nodeSelector),
    timeSince(ds.metadata?.creationTimestamp, now),
    ...containerCells(ds.spec?.template?.spec?.containers),
    formatLabelSelector(ds.spec?.selector),
  ],
);

export const statefulSetPrinter = printer<StatefulSet>(
  [NAME_COLUMN, column('Ready', 'string', 'Ready replicas out of desired replicas.'), AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN],
  (sts, now) => [
    sts.metadata?.name ?? '',
    `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`,
    timeSince(sts.metadata?.creationTimestamp, now),
    ...containerCells(sts.spec?.template?.spec?.containers),
  ],
);

export const controllerRevisionPrinter = printer<ControllerRevision>(
  [
    NAME_COLUMN,
    column('Controller', 'string', 'The object that owns the revision, as kind.group/name.'),
    column('Revision', 'string', 'The revision number.'),
    AGE_COLUMN,
  ],
  (cr, now) => [cr.metadata?.name ?? '', revisionController(cr), cr.revision ?? 0, timeSince(cr.metadata?.creationTimestamp, now)],
);

/** `daemonset.apps/fluentd`: the controlling owner reference, or `<none>`. */
function revisionController(cr: ControllerRevision): string {
  const owner = cr.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  if (!owner) return '<none>';
  const slash = owner.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : owner.apiVersion.slice(0, slash);
  if (!owner.kind && !group) return owner.name;
  const groupKind = group ? `${owner.kind}.${group}` : owner.kind;
  return `${groupKind.toLowerCase()}/${owner.name}`;
}
