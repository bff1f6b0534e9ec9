import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changed, createErrors, deployment, DEPLOYMENT, pod, POD, resource, updateErrors } from './fixtures.js';
import type { Loose } from './fixtures.js';

const NAMESPACE = resource('', 'Namespace');
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('ObjectMeta on create', () => {
  const cases: { name: string; change: (o: Loose) => void; expect: string[] }[] = [
    { name: 'name required', change: (o) => delete o.metadata.name, expect: ['metadata.name: Required value: name or generateName is required'] },
    { name: 'name syntax', change: (o) => (o.metadata.name = 'Web_1'), expect: [`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN_MSG}`] },
    {
      name: 'generateName may end in a dash but must otherwise be a name',
      change: (o) => {
        delete o.metadata.name;
        o.metadata.generateName = 'Web-';
      },
      expect: [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_MSG}`, 'metadata.name: Required value: name or generateName is required'],
    },
    { name: 'namespace required', change: (o) => delete o.metadata.namespace, expect: ['metadata.namespace: Required value'] },
    {
      name: 'label key and value syntax',
      change: (o) => (o.metadata.labels = { 'bad key': 'ok', good: 'bad value!' }),
      expect: [
        `metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        `metadata.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    },
    {
      name: 'annotations total size',
      change: (o) => (o.metadata.annotations = { big: 'x'.repeat(256 * 1024) }),
      expect: ['metadata.annotations: Too long: may not be more than 262144 bytes'],
    },
    {
      name: 'owner references need apiVersion, kind, name and uid',
      change: (o) => (o.metadata.ownerReferences = [{ apiVersion: '', kind: '', name: '', uid: '' }]),
      expect: [
        'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
      ],
    },
    {
      name: 'finalizers are qualified or standard',
      change: (o) => (o.metadata.finalizers = ['example.com/cleanup', 'kubernetes', 'cleanup']),
      expect: ['metadata.finalizers[2]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(createErrors(DEPLOYMENT, changed(deployment(), c.change)), c.expect));
  }

  test('at most one controller owner', () => {
    const refs = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
    ];
    const errs = createErrors(POD, changed(pod(), (p) => (p.metadata.ownerReferences = refs)));
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? '', /^metadata\.ownerReferences: Invalid value: .*Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/a and ReplicaSet\/b$/);
  });

  test('cluster-scoped kinds forbid a namespace; namespace names are DNS labels', () => {
    assert.deepEqual(createErrors(NAMESPACE, { metadata: { name: 'team-a', namespace: 'x' } }), ['metadata.namespace: Forbidden: not allowed on this type']);
    assert.equal(createErrors(NAMESPACE, { metadata: { name: 'team.a' } }).length, 1);
  });

  test('service names are DNS-1035 labels', () => {
    const errs = createErrors(resource('', 'Service'), { metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? '', /^metadata\.name: Invalid value: "1web": a DNS-1035 label must consist of/);
  });

  test('core/v1 event names only need to be URL path segments', () => {
    const EVENT = resource('', 'Event');
    const ev = { metadata: { name: 'web.17a2b', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Started' };
    assert.deepEqual(createErrors(EVENT, ev), []);
    assert.deepEqual(createErrors(EVENT, changed(ev, (e) => (e.metadata.name = 'a/b%'))), [
      `metadata.name: Invalid value: "a/b%": may not contain '/'`,
      `metadata.name: Invalid value: "a/b%": may not contain '%'`,
    ]);
  });
});

describe('ObjectMeta on update', () => {
  test('name and namespace are immutable', () => {
    const errs = updateErrors(DEPLOYMENT, changed(deployment(), (d) => (d.metadata.namespace = 'other')), deployment());
    assert.deepEqual(errs, ['metadata.namespace: Invalid value: "other": field is immutable']);
  });

  test('no new finalizers while the object is being deleted', () => {
    const old = changed(deployment(), (d) => (d.metadata.deletionTimestamp = '2024-01-01T00:00:00Z'));
    const now = changed(old, (d) => (d.metadata.finalizers = ['example.com/x']));
    assert.deepEqual(updateErrors(DEPLOYMENT, now, old), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/x"}',
    ]);
  });
});
