// Prefix ranges: the upper bound must admit every key under the prefix and nothing else.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefixEnd } from '../../controlplane/store/key-range.js';

void test('the end of a prefix is the prefix with its last character stepped up', () => {
  assert.equal(prefixEnd('/registry/pods/'), '/registry/pods0');
  assert.equal(prefixEnd('/registry/pods'), '/registry/podt');
  assert.equal(prefixEnd('a'), 'b');
});

void test('the empty prefix, and one made only of the last code point, have no end', () => {
  assert.equal(prefixEnd(''), undefined);
  assert.equal(prefixEnd('\u{10FFFF}'), undefined);
  assert.equal(prefixEnd('\u{10FFFF}\u{10FFFF}'), undefined);
});

void test('the last code point carries into the one before it; surrogates are skipped', () => {
  assert.equal(prefixEnd('a\u{10FFFF}'), 'b');
  assert.equal(prefixEnd('x\uD7FF'), 'x\uE000');
  assert.equal(prefixEnd('x\u{1F600}'), 'x\u{1F601}');
});

void test('every key under the prefix sorts inside the range, its siblings outside', () => {
  const prefix = '/registry/pods/';
  const end = prefixEnd(prefix) ?? '';
  // Compare as UTF-8 bytes, the order SQLite's BINARY collation uses.
  const before = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
  for (const key of ['/registry/pods/', '/registry/pods/a', '/registry/pods/\u{10FFFF}\u{10FFFF}', '/registry/pods/~']) {
    assert.ok(!before(key, prefix) && before(key, end), `${key} is in range`);
  }
  for (const key of ['/registry/pods', '/registry/podsx/a', '/registry/pods0', '/registry/pod/']) {
    assert.ok(before(key, prefix) || !before(key, end), `${key} is out of range`);
  }
});
