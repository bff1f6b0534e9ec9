// The protobuf decoder on hand-built bodies: every wire shape Kubernetes types use (messages,
// maps, bytes, repeated and packed fields, Time, MicroTime, IntOrString, Quantity, inlined
// structs) and the errors a bad body gets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import { decodeObject } from '../../controlplane/apiserver/http.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from '../../controlplane/apiserver/protobuf.js';
import { bytes, cat, fixed32, k8sBody, mapEntry, message, objectMeta, packed, varint } from './wire.js';

function statusOf(fn: () => unknown): { code: number; reason: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    const status = err.toStatus();
    return { code: status.code, reason: status.reason, message: status.message ?? '' };
  }
  assert.fail('expected the decoder to throw');
}

/** 2026-01-02T03:04:05Z */
const SECONDS = 1767323045;

describe('protobuf request bodies', () => {
  test('a Namespace as kubectl sends it: empty structs are written, omitempty zeros are not', () => {
    const body = k8sBody('v1', 'Namespace', objectMeta(1, 'foo'), message(2), message(3));
    assert.deepEqual(decodeProtobufObject(body, 'Namespace'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'foo', creationTimestamp: null },
      spec: {},
      status: {},
    });
  });

  test('maps of strings and of bytes, repeated strings, a pointer bool', () => {
    const body = k8sBody(
      'v1',
      'ConfigMap',
      objectMeta(1, 'cm', mapEntry(11, 'app', bytes(2, 'web')), mapEntry(11, 'tier', bytes(2, 'front')), bytes(14, 'a/b'), bytes(14, 'c/d')),
      mapEntry(2, 'a', bytes(2, 'b')),
      mapEntry(2, 'empty'),
      mapEntry(3, 'bin', bytes(2, Uint8Array.from([0, 1, 2, 255]))),
      varint(4, true),
    );
    assert.deepEqual(decodeProtobufObject(body, 'ConfigMap'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', creationTimestamp: null, labels: { app: 'web', tier: 'front' }, finalizers: ['a/b', 'c/d'] },
      data: { a: 'b', empty: '' },
      binaryData: { bin: Buffer.from([0, 1, 2, 255]).toString('base64') },
      immutable: true,
    });
  });

  test('Secret data is base64 in JSON', () => {
    const body = k8sBody('v1', 'Secret', objectMeta(1, 's'), mapEntry(2, 'password', bytes(2, 'hunter2')), bytes(3, 'Opaque'));
    const secret = decodeProtobufObject(body, 'Secret');
    assert.deepEqual(secret['data'], { password: Buffer.from('hunter2').toString('base64') });
    assert.equal(secret['type'], 'Opaque');
  });

  test('nested repeated messages, non-omitempty zeros, Quantity maps and inlined structs', () => {
    const container = cat(
      bytes(1, 'app'),
      bytes(2, 'busybox'),
      bytes(3, 'sh'),
      bytes(3, '-c'),
      message(6, bytes(1, ''), varint(2, 0), varint(3, 80), bytes(4, 'TCP'), bytes(5, '')),
      message(6, bytes(1, 'metrics'), varint(2, 0), varint(3, 0), bytes(4, 'UDP'), bytes(5, '')),
      message(7, bytes(1, 'X'), bytes(2, '1')),
      message(8, mapEntry(1, 'cpu', message(2, bytes(1, '500m'))), mapEntry(2, 'memory', message(2, bytes(1, '64Mi')))),
      bytes(14, ''),
      varint(16, false),
    );
    const volume = cat(bytes(1, 'scratch'), message(2, message(2, bytes(1, 'Memory'), message(2, bytes(1, '1Gi')))));
    const spec = cat(message(1, volume), message(2, container), bytes(3, 'Always'), message(14, packed(4, [1000, 2000])));
    const pod = decodeProtobufObject(k8sBody('v1', 'Pod', objectMeta(1, 'p'), message(2, spec), message(3)), 'Pod');
    assert.deepEqual(pod['spec'], {
      volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }],
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sh', '-c'],
          // containerPort has no omitempty: a zero stays, as Go's JSON writes it
          ports: [
            { containerPort: 80, protocol: 'TCP' },
            { name: 'metrics', containerPort: 0, protocol: 'UDP' },
          ],
          env: [{ name: 'X', value: '1' }],
          resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
        },
      ],
      restartPolicy: 'Always',
      securityContext: { supplementalGroups: [1000, 2000] },
    });
  });

  test('a field missing from the wire is its Go zero value: required zeros and empty structs appear', () => {
    // An EnvVar without its name, a Container without resources: gogo would always have written them.
    const pod = decodeProtobufObject(k8sBody('v1', 'Pod', message(2, message(2, message(7, bytes(2, 'v'))))), 'Pod');
    assert.deepEqual(pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { creationTimestamp: null },
      spec: { containers: [{ name: '', env: [{ name: '', value: 'v' }], resources: {} }] },
      status: {},
    });
  });

  test('Time keeps whole seconds, MicroTime microseconds, both in UTC', () => {
    const timestamp = (field: number, nanos = 0) => message(field, varint(1, SECONDS), ...(nanos ? [varint(2, nanos)] : []));
    const ns = decodeProtobufObject(k8sBody('v1', 'Namespace', message(1, bytes(1, 'ns'), timestamp(8, 999_999_999))), 'Namespace');
    assert.deepEqual(ns['metadata'], { name: 'ns', creationTimestamp: '2026-01-02T03:04:05Z' });

    const lease = decodeProtobufObject(
      k8sBody('coordination.k8s.io/v1', 'Lease', objectMeta(1, 'l'), message(2, bytes(1, 'me'), varint(2, 15), timestamp(3, 123_456_789), timestamp(4))),
      'Lease',
    );
    assert.deepEqual(lease['spec'], {
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T03:04:05.123456Z',
      renewTime: '2026-01-02T03:04:05.000000Z',
    });
  });

  test('a zero Time is null, a Time before 1970 is a date', () => {
    const event = decodeProtobufObject(
      k8sBody('v1', 'Event', objectMeta(1, 'e'), message(2), message(6, varint(1, -86400)), message(7), message(10)),
      'Event',
    );
    assert.equal(event['firstTimestamp'], '1969-12-31T00:00:00Z');
    assert.equal(event['lastTimestamp'], null);
    assert.equal(event['eventTime'], null);
    assert.equal(event['reportingComponent'], '');
  });

  test('IntOrString is a number or a string', () => {
    const intOrString = (field: number, v: number | string) =>
      typeof v === 'number' ? message(field, varint(1, 0), varint(2, v), bytes(3, '')) : message(field, varint(1, 1), varint(2, 0), bytes(3, v));
    const svc = decodeProtobufObject(
      k8sBody('v1', 'Service', objectMeta(1, 'svc'), message(2, message(1, bytes(1, 'http'), varint(3, 80), intOrString(4, 8080)), message(1, bytes(1, 'web'), varint(3, 81), intOrString(4, 'web')))),
      'Service',
    );
    assert.deepEqual((svc['spec'] as { ports: unknown[] }).ports, [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'web', port: 81, targetPort: 'web' },
    ]);
    const deployment = decodeProtobufObject(
      k8sBody('apps/v1', 'Deployment', objectMeta(1, 'd'), message(2, varint(1, 3), message(4, bytes(1, 'RollingUpdate'), message(2, intOrString(1, 0), intOrString(2, '25%'))))),
      'Deployment',
    );
    const spec = deployment['spec'] as Record<string, unknown>;
    assert.deepEqual(spec['strategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    assert.equal(spec['replicas'], 3);
    // selector is a pointer without omitempty: nil is written as null, as Go's JSON does
    assert.equal(spec['selector'], null);
    assert.deepEqual(spec['template'], { metadata: { creationTimestamp: null }, spec: { containers: null } });
  });

  test('negative numbers, packed and unpacked repeated varints', () => {
    const job = decodeProtobufObject(
      k8sBody(
        'batch/v1',
        'Job',
        objectMeta(1, 'j'),
        message(2, message(11, message(1, bytes(1, 'FailJob'), message(2, bytes(2, 'In'), packed(3, [1, 2]), varint(3, -1))))),
      ),
      'Job',
    );
    const rules = ((job['spec'] as Record<string, unknown>)['podFailurePolicy'] as { rules: unknown[] }).rules;
    assert.deepEqual(rules, [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 2, -1] } }]);
  });

  test('DeleteOptions in any group version, and nested in an Eviction', () => {
    assert.deepEqual(decodeProtobufObject(k8sBody('apps/v1', 'DeleteOptions', varint(1, 0), bytes(4, 'Foreground'), bytes(5, 'All')), 'DeleteOptions'), {
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
    const eviction = decodeProtobufObject(k8sBody('policy/v1', 'Eviction', objectMeta(1, 'p'), message(2, varint(1, 30), message(2, bytes(1, 'uid-1')))), 'Eviction');
    assert.deepEqual(eviction['deleteOptions'], { gracePeriodSeconds: 30, preconditions: { uid: 'uid-1' } });
  });

  test('a message sent twice is merged, a scalar sent twice keeps the last value', () => {
    const body = k8sBody('v1', 'Namespace', message(1, bytes(1, 'first')), message(1, bytes(1, 'second'), mapEntry(11, 'a', bytes(2, 'b'))));
    assert.deepEqual(decodeProtobufObject(body, 'Namespace')['metadata'], { name: 'second', labels: { a: 'b' }, creationTimestamp: null });
  });

  test('unknown fields are skipped, as Kubernetes does for newer clients', () => {
    const body = k8sBody('v1', 'Namespace', objectMeta(1, 'foo'), varint(900, 7), bytes(901, 'x'), fixed32(902, 1), message(2, bytes(77, 'y')));
    assert.deepEqual(decodeProtobufObject(body, 'Namespace'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'foo', creationTimestamp: null },
      spec: {},
      status: {},
    });
  });

  test('RawExtension holds JSON or a nested protobuf object', () => {
    const json = decodeProtobufObject(
      k8sBody('apps/v1', 'ControllerRevision', objectMeta(1, 'r'), message(2, bytes(1, '{"spec":{"a":1}}')), varint(3, 2)),
      'ControllerRevision',
    );
    assert.deepEqual(json['data'], { spec: { a: 1 } });
    assert.equal(json['revision'], 2);
    const nested = decodeProtobufObject(
      k8sBody('apps/v1', 'ControllerRevision', objectMeta(1, 'r'), message(2, bytes(1, k8sBody('v1', 'ConfigMap', objectMeta(1, 'inner')))), varint(3, 1)),
      'ControllerRevision',
    );
    assert.deepEqual(nested['data'], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inner', creationTimestamp: null } });
  });

  test('a missing kind is the endpoint\'s; a missing apiVersion is found when only one version has the kind', () => {
    const obj = decodeProtobufObject(k8sBody('', '', objectMeta(1, 'foo')), 'Namespace');
    assert.deepEqual(obj, { metadata: { name: 'foo', creationTimestamp: null }, spec: {}, status: {} });
    assert.match(statusOf(() => decodeProtobufObject(k8sBody('', 'Event'), 'Event')).message, /Object 'apiVersion' is missing/);
  });
});

describe('protobuf errors', () => {
  test('a body without the magic is a 400 naming the expected kind', () => {
    const status = statusOf(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}'), 'Namespace'));
    assert.equal(status.code, 400);
    assert.equal(status.reason, 'BadRequest');
    assert.equal(
      status.message,
      'the object provided is unrecognized (must be of type Namespace): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (7b226b696e64223a224e616d657370616365227d)',
    );
  });

  test('empty data and an empty body after the magic', () => {
    assert.match(statusOf(() => decodeProtobufObject(Buffer.alloc(0), 'Pod')).message, /must be of type Pod\): empty data \(<empty>\)$/);
    assert.match(statusOf(() => decodeProtobufObject(Buffer.from('k8s\0'), 'Pod')).message, /must be of type Pod\): empty body/);
  });

  test('a truncated body', () => {
    const body = k8sBody('v1', 'Namespace', objectMeta(1, 'foo'));
    const status = statusOf(() => decodeProtobufObject(body.subarray(0, body.length - 3), 'Namespace'));
    assert.equal(status.code, 400);
    assert.match(status.message, /unexpected EOF/);
  });

  test('a field of the wrong wire type names the type', () => {
    const status = statusOf(() => decodeProtobufObject(k8sBody('v1', 'Namespace', varint(1, 5)), 'Namespace'));
    assert.equal(status.code, 400);
    assert.equal(status.message, 'Namespace in version "v1" cannot be handled as a Namespace: proto: wrong wireType = 0 for field metadata of io.k8s.api.core.v1.Namespace');
  });

  test('a kind Skiff does not know', () => {
    const status = statusOf(() => decodeProtobufObject(k8sBody('example.com/v1', 'Widget', objectMeta(1, 'w')), 'Pod'));
    assert.equal(status.code, 400);
    assert.equal(status.message, 'Widget in version "v1" cannot be handled as a Pod: no kind "Widget" is registered for version "example.com/v1"');
  });

  test('a malformed quantity fails at decoding, as Quantity.Unmarshal does', () => {
    const body = k8sBody('v1', 'Pod', message(2, message(2, bytes(1, 'c'), message(8, mapEntry(1, 'cpu', message(2, bytes(1, 'lots')))))));
    const status = statusOf(() => decodeProtobufObject(body, 'Pod'));
    assert.equal(status.code, 400);
    assert.match(status.message, /^Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression/);
  });

  test('an IntOrString of an impossible type, a varint that never ends', () => {
    const svc = k8sBody('v1', 'Service', message(2, message(1, varint(3, 80), message(4, varint(1, 7)))));
    assert.match(statusOf(() => decodeProtobufObject(svc, 'Service')).message, /impossible IntOrString.Type/);
    const endless = Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x08]), Buffer.alloc(11, 0xff)]);
    assert.match(statusOf(() => decodeProtobufObject(endless, 'Pod')).message, /must be of type Pod\): proto: integer overflow/);
  });
});

describe('decodeObject picks the decoder by Content-Type', () => {
  test('protobuf bodies as bytes', () => {
    const body = k8sBody('v1', 'Namespace', objectMeta(1, 'foo'));
    assert.equal((decodeObject(body, `${PROTOBUF_MEDIA_TYPE}`, 'Namespace')['metadata'] as { name: string }).name, 'foo');
    assert.equal((decodeObject(body, 'Application/Vnd.Kubernetes.Protobuf; charset=binary', 'Namespace')['metadata'] as { name: string }).name, 'foo');
  });

  test('JSON and YAML bodies given as bytes still decode', () => {
    assert.deepEqual(decodeObject(Buffer.from('{"kind":"Namespace"}'), 'application/json', 'Namespace'), { kind: 'Namespace' });
    assert.deepEqual(decodeObject(Buffer.from('kind: Namespace\n'), 'application/yaml', 'Namespace'), { kind: 'Namespace' });
  });

  test('an unknown media type is a 415 listing protobuf', () => {
    const status = statusOf(() => decodeObject('x', 'text/plain', 'Namespace'));
    assert.equal(status.code, 415);
    assert.match(status.message, /application\/vnd\.kubernetes\.protobuf/);
  });
});
