// authentication/v1 UserInfo's `extra` in protobuf bodies: a map of ExtraValue, which Go declares
// as `[]string` and protobuf wraps in a message ({items = 1}); JSON carries the bare list.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeProtobufObject } from '../../controlplane/apiserver/protobuf.js';
import { bytes, k8sBody, mapEntry, message, varint } from '../protobuf/wire.js';

/** A SelfSubjectReview whose status.userInfo (field 2, then 1) has the given fields. */
function selfSubjectReview(...userInfo: Uint8Array[]): Buffer {
  return k8sBody('authentication.k8s.io/v1', 'SelfSubjectReview', message(2, message(1, ...userInfo)));
}

function userInfoOf(body: Buffer): unknown {
  const review = decodeProtobufObject(body, 'SelfSubjectReview') as { status: { userInfo: unknown } };
  return review.status.userInfo;
}

describe('UserInfo extra in protobuf bodies', () => {
  test('each entry decodes to its list of strings; an entry without items to an empty list', () => {
    const body = selfSubjectReview(
      bytes(1, 'alice'),
      bytes(3, 'devs'),
      mapEntry(4, 'scopes', message(2, bytes(1, 'read'), bytes(1, 'write'))),
      mapEntry(4, 'no-items', message(2)),
      mapEntry(4, 'no-value'),
    );
    assert.deepEqual(userInfoOf(body), {
      username: 'alice',
      groups: ['devs'],
      extra: { scopes: ['read', 'write'], 'no-items': [], 'no-value': [] },
    });
  });

  test('no extra is no field (omitempty); a malformed list is refused like any malformed field', () => {
    assert.deepEqual(userInfoOf(selfSubjectReview(bytes(1, 'bob'))), { username: 'bob' });
    assert.throws(() => userInfoOf(selfSubjectReview(mapEntry(4, 'k', message(2, varint(1, 7))))), /wrong wireType = 0 for field items/);
  });
});
