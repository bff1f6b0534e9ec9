// The nodes table: NAME STATUS ROLES AGE VERSION, and for `-o wide` INTERNAL-IP EXTERNAL-IP
// OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME.

import type { Node } from 'kubernetes-types/core/v1.js';
import { timeSince } from './duration.js';
import { AGE_COLUMN, NAME_COLUMN, column, printer } from './printer.js';

/** `node-role.kubernetes.io/<role>` labels name a node's roles; the legacy label holds one role as its value. */
const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

export const nodePrinter = printer<Node>(
  [
    NAME_COLUMN,
    column('Status', 'string', 'Whether the node is ready, and whether it accepts new pods.'),
    column('Roles', 'string', 'Roles from the node-role.kubernetes.io/<role> labels.'),
    AGE_COLUMN,
    column('Version', 'string', 'Version of the node agent (kubelet) on the node.'),
    column('Internal-IP', 'string', 'The first InternalIP address of the node.', { priority: 1 }),
    column('External-IP', 'string', 'The first ExternalIP address of the node.', { priority: 1 }),
    column('OS-Image', 'string', 'The operating system image the node reports.', { priority: 1 }),
    column('Kernel-Version', 'string', 'The kernel version the node reports.', { priority: 1 }),
    column('Container-Runtime', 'string', 'The container runtime and its version.', { priority: 1 }),
  ],
  (node, now) => {
    const info = node.status?.nodeInfo;
    return [
      node.metadata?.name ?? '',
      nodeStatus(node),
      nodeRoles(node).join(',') || '<none>',
      timeSince(node.metadata?.creationTimestamp, now),
      info?.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
);

/** `Ready`, `NotReady` (False or Unknown), `Unknown` (no Ready condition yet), plus `SchedulingDisabled` when cordoned. */
function nodeStatus(node: Node): string {
  const conditions = new Map((node.status?.conditions ?? []).map((c) => [c.type, c]));
  const ready = conditions.get('Ready');
  const parts = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role) roles.add(role);
    } else if (key === LEGACY_ROLE_LABEL && value) {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}
