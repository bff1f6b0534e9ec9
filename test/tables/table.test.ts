import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/objects.js';
import type { ResourceType } from '../../api/resources.js';
import { toTable } from '../../controlplane/apiserver/tables/index.js';
import { NOW, ago, resource } from './fixtures.js';

const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: 'team-a', labels: { app: 'web', tier: 'front' }, resourceVersion: '42', creationTimestamp: ago(90) },
  data: { 'a.conf': 'x', 'b.conf': 'y' },
};

void describe('toTable', () => {
  void test('is a meta.k8s.io/v1 Table with the list metadata', () => {
    const table = toTable(resource('', 'configmaps'), [configMap], { now: NOW, listMeta: { resourceVersion: '1009', continue: 'abc' } });
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '1009', continue: 'abc' });
    assert.deepEqual(table.rows[0]?.cells, ['settings', 2, '90s']);
  });

  void test('rows carry a PartialObjectMetadata by default', () => {
    const row = toTable(resource('', 'configmaps'), [configMap], { now: NOW }).rows[0];
    assert.deepEqual(row?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: configMap.metadata });
    assert.deepEqual(toTable(resource('', 'configmaps'), [configMap], { now: NOW, includeObject: 'Metadata' }).rows[0]?.object, row?.object);
  });

  void test('includeObject=Object embeds the whole object', () => {
    const row = toTable(resource('', 'configmaps'), [configMap], { now: NOW, includeObject: 'Object' }).rows[0];
    assert.deepEqual(row?.object, configMap);
  });

  void test('includeObject=Object fills in apiVersion and kind when the stored object lacks them', () => {
    const bare: KubeObject = { metadata: { name: 'web' }, spec: { replicas: 2 } };
    const row = toTable(resource('apps', 'deployments'), [bare], { now: NOW, includeObject: 'Object' }).rows[0];
    assert.deepEqual(row?.object, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } });
  });

  void test('includeObject=None leaves the object out', () => {
    const row = toTable(resource('', 'configmaps'), [configMap], { now: NOW, includeObject: 'None' }).rows[0];
    assert.equal(row !== undefined && 'object' in row, false);
  });

  void test('the columns are the same whatever includeObject is', () => {
    const r = resource('', 'pods');
    const columns = toTable(r, [], { includeObject: 'Metadata' }).columnDefinitions;
    assert.deepEqual(toTable(r, [], { includeObject: 'Object' }).columnDefinitions, columns);
    assert.deepEqual(toTable(r, [], { includeObject: 'None' }).columnDefinitions, columns);
    assert.equal(columns.length, 9);
  });

  void test('noHeaders leaves out the column definitions but keeps the cells (later watch events)', () => {
    const table = toTable(resource('', 'configmaps'), [configMap], { now: NOW, noHeaders: true });
    assert.deepEqual(table.columnDefinitions, []);
    assert.deepEqual(table.rows[0]?.cells, ['settings', 2, '90s']);
  });

  void test('an empty list is a table with columns and no rows', () => {
    const table = toTable(resource('', 'configmaps'), [], { listMeta: { resourceVersion: '7' } });
    assert.equal(table.rows.length, 0);
    assert.equal(table.columnDefinitions.length, 3);
    assert.deepEqual(table.metadata, { resourceVersion: '7' });
  });

  void test('rows keep the order of the objects', () => {
    const names = ['c', 'a', 'b'];
    const table = toTable(resource('', 'configmaps'), names.map((name) => ({ metadata: { name } })), { now: NOW });
    assert.deepEqual(table.rows.map((r) => r.cells[0]), names);
  });

  void test('ages are measured from the current time when no clock is given', () => {
    const fresh: KubeObject = { metadata: { name: 'fresh', creationTimestamp: new Date(Date.now() - 5000).toISOString() } };
    const age = toTable(resource('', 'configmaps'), [fresh]).rows[0]?.cells[2];
    assert.match(String(age), /^[5-9]s$/);
  });
});

void describe('the default table', () => {
  const widgets: ResourceType = { ...resource('', 'configmaps'), group: 'example.com', kind: 'Widget', plural: 'widgets', singular: 'widget' };

  void test('has Name and a date-typed Created At', () => {
    const table = toTable(widgets, [{ metadata: { name: 'w1', creationTimestamp: '2025-06-01T11:50:00Z' } }], { now: NOW });
    assert.deepEqual(
      table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', '', 0],
      ],
    );
    assert.deepEqual(table.rows[0]?.cells, ['w1', '2025-06-01T11:50:00Z']);
  });

  void test('an object without a creation time prints the zero time', () => {
    assert.deepEqual(toTable(widgets, [{ metadata: { name: 'w2' } }], { now: NOW }).rows[0]?.cells, ['w2', '0001-01-01T00:00:00Z']);
  });
});
