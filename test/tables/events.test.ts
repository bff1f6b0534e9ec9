import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import { ago, cells } from './fixtures.js';

void describe('core/v1 events', () => {
  void test('a repeated kubelet event', () => {
    const event: CoreEvent = {
      metadata: { name: 'web-1.17a2b3c4d5e6f7a8', namespace: 'default', creationTimestamp: ago(3600) },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container web in pod web-1\n',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(3600),
      lastTimestamp: ago(30),
      count: 14,
      type: 'Warning',
    };
    assert.deepEqual(cells('', 'events', event), [
      '30s',
      'Warning',
      'BackOff',
      'pod/web-1',
      'spec.containers{web}',
      'kubelet, node-1',
      'Back-off restarting failed container web in pod web-1',
      '60m',
      14,
      'web-1.17a2b3c4d5e6f7a8',
    ]);
  });

  void test('an event with only eventTime, reported by a controller, counts once', () => {
    const event: CoreEvent = {
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: { kind: 'Deployment', name: 'web' },
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set web-7d4b9c to 3',
      eventTime: '2025-06-01T11:58:00.000000Z',
      reportingComponent: 'deployment-controller',
      type: 'Normal',
    };
    assert.deepEqual(cells('', 'events', event), ['2m', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up replica set web-7d4b9c to 3', '2m', 1, 'web.1']);
  });

  void test('a series sets last seen and count; no timestamps at all is <unknown>', () => {
    const series: CoreEvent = {
      metadata: { name: 'n.1' },
      involvedObject: { kind: 'Node' },
      eventTime: ago(600),
      series: { count: 7, lastObservedTime: ago(5) },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    };
    const row = cells('', 'events', series);
    assert.deepEqual([row[0], row[3], row[5], row[7], row[8]], ['5s', 'node', 'kubelet, node-1', '10m', 7]);
    const bare = cells('', 'events', { metadata: { name: 'x' }, involvedObject: {} });
    assert.deepEqual([bare[0], bare[7], bare[8]], ['<unknown>', '<unknown>', 1]);
  });
});

void describe('events.k8s.io/v1 events', () => {
  void test('print like core events, through the field mapping', () => {
    const event: EventsEvent = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web-1.17a2', namespace: 'default' },
      eventTime: ago(600),
      regarding: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      note: 'Started container web',
      reason: 'Started',
      type: 'Normal',
      action: 'Started',
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
      deprecatedFirstTimestamp: ago(600),
      deprecatedLastTimestamp: ago(120),
      deprecatedCount: 2,
    };
    assert.deepEqual(cells('events.k8s.io', 'events', event), [
      '2m',
      'Normal',
      'Started',
      'pod/web-1',
      'spec.containers{web}',
      'kubelet, node-1',
      'Started container web',
      '10m',
      2,
      'web-1.17a2',
    ]);
  });

  void test('the deprecated source wins over the reporting controller', () => {
    const event: EventsEvent = {
      metadata: { name: 'e' },
      eventTime: ago(60),
      regarding: { kind: 'Node', name: 'node-1' },
      reportingController: 'skiff-agent',
      reportingInstance: 'node-1',
      deprecatedSource: { component: 'kubelet' },
    };
    assert.equal(cells('events.k8s.io', 'events', event)[5], 'kubelet, node-1');
  });
});
