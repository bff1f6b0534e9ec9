import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/objects.js';
import { RESOURCES } from '../../api/resources.js';
import { DEFAULT_TABLE_RESOURCES, columnDefinitions, customPrinter, printerKey, toTable } from '../../controlplane/apiserver/tables/index.js';
import { NOW, resource } from './fixtures.js';

type Col = [name: string, type: string, priority: number];
const s = (name: string): Col => [name, 'string', 0];
const i = (name: string): Col => [name, 'integer', 0];
const wide = (name: string): Col => [name, 'string', 1];

// The columns of Kubernetes v1.32's printers (pkg/printers/internalversion/printers.go).
const EXPECTED: Record<string, Col[]> = {
  '/pods': [s('Name'), s('Ready'), s('Status'), s('Restarts'), s('Age'), wide('IP'), wide('Node'), wide('Nominated Node'), wide('Readiness Gates')],
  '/services': [s('Name'), s('Type'), s('Cluster-IP'), s('External-IP'), s('Port(s)'), s('Age'), wide('Selector')],
  '/nodes': [s('Name'), s('Status'), s('Roles'), s('Age'), s('Version'), wide('Internal-IP'), wide('External-IP'), wide('OS-Image'), wide('Kernel-Version'), wide('Container-Runtime')],
  '/namespaces': [s('Name'), s('Status'), s('Age')],
  '/endpoints': [s('Name'), s('Endpoints'), s('Age')],
  '/configmaps': [s('Name'), s('Data'), s('Age')],
  '/secrets': [s('Name'), s('Type'), s('Data'), s('Age')],
  '/serviceaccounts': [s('Name'), s('Secrets'), s('Age')],
  '/limitranges': [s('Name'), ['Created At', 'date', 0]],
  '/resourcequotas': [s('Name'), s('Age'), s('Request'), s('Limit')],
  '/events': [s('Last Seen'), s('Type'), s('Reason'), s('Object'), wide('Subobject'), wide('Source'), s('Message'), wide('First Seen'), wide('Count'), wide('Name')],
  'events.k8s.io/events': [s('Last Seen'), s('Type'), s('Reason'), s('Object'), wide('Subobject'), wide('Source'), s('Message'), wide('First Seen'), wide('Count'), wide('Name')],
  'discovery.k8s.io/endpointslices': [s('Name'), s('AddressType'), s('Ports'), s('Endpoints'), s('Age')],
  'coordination.k8s.io/leases': [s('Name'), s('Holder'), s('Age')],
  'apps/deployments': [s('Name'), s('Ready'), s('Up-to-date'), s('Available'), s('Age'), wide('Containers'), wide('Images'), wide('Selector')],
  'apps/replicasets': [s('Name'), i('Desired'), i('Current'), i('Ready'), s('Age'), wide('Containers'), wide('Images'), wide('Selector')],
  'apps/daemonsets': [s('Name'), i('Desired'), i('Current'), i('Ready'), i('Up-to-date'), i('Available'), s('Node Selector'), s('Age'), wide('Containers'), wide('Images'), wide('Selector')],
  'apps/statefulsets': [s('Name'), s('Ready'), s('Age'), wide('Containers'), wide('Images')],
  'apps/controllerrevisions': [s('Name'), s('Controller'), s('Revision'), s('Age')],
  'batch/jobs': [s('Name'), s('Status'), s('Completions'), s('Duration'), s('Age'), wide('Containers'), wide('Images'), wide('Selector')],
  'batch/cronjobs': [s('Name'), s('Schedule'), s('Timezone'), ['Suspend', 'boolean', 0], i('Active'), s('Last Schedule'), s('Age'), wide('Containers'), wide('Images'), wide('Selector')],
  'autoscaling/horizontalpodautoscalers': [s('Name'), s('Reference'), s('Targets'), s('MinPods'), i('MaxPods'), i('Replicas'), s('Age')],
  'policy/poddisruptionbudgets': [s('Name'), s('Min Available'), s('Max Unavailable'), i('Allowed Disruptions'), s('Age')],
};

void describe('column definitions', () => {
  void test('every served resource has a printer, or deliberately uses the default table', () => {
    for (const r of RESOURCES) {
      const key = printerKey(r);
      assert.ok(customPrinter(r) !== undefined || DEFAULT_TABLE_RESOURCES.has(key), `${key} has no table printer; add one or list it in DEFAULT_TABLE_RESOURCES`);
    }
  });

  for (const [key, expected] of Object.entries(EXPECTED)) {
    void test(`${key} prints Kubernetes' columns`, () => {
      const [group = '', plural = ''] = key.split('/');
      const columns = columnDefinitions(resource(group, plural));
      assert.deepEqual(
        columns.map((c) => [c.name, c.type, c.priority]),
        expected,
      );
      for (const c of columns) {
        assert.equal(c.format, c.name === 'Name' ? 'name' : '', `${key} ${c.name} format`);
        assert.ok(c.description.length > 0, `${key} ${c.name} has a description`);
      }
    });
  }

  void test('every served resource is in the expected list above', () => {
    for (const r of RESOURCES) assert.ok(printerKey(r) in EXPECTED, `${printerKey(r)} missing from EXPECTED`);
  });

  void test('every printer fills every column, even for an object with only a name', () => {
    for (const r of RESOURCES) {
      const table = toTable(r, [{ metadata: { name: 'bare' } } as KubeObject], { now: NOW });
      assert.equal(table.rows[0]?.cells.length, table.columnDefinitions.length, printerKey(r));
    }
  });

  void test('the definitions returned are copies', () => {
    const pods = resource('', 'pods');
    const first = columnDefinitions(pods);
    (first[0] as { name: string }).name = 'Changed';
    assert.equal(columnDefinitions(pods)[0]?.name, 'Name');
  });
});
