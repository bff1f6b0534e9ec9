import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/errors.js';
import { FieldSelector, escapeFieldValue, fieldSelectorFromSet, parseFieldSelector } from '../../api/fields.js';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('expected an error');
}

describe('parseFieldSelector', () => {
  const running = { 'metadata.name': 'web-1', 'metadata.namespace': 'default', 'spec.nodeName': 'n1', 'status.phase': 'Running' };
  const pending = { 'metadata.name': 'web-2', 'metadata.namespace': 'default', 'status.phase': 'Pending' };

  test('the selectors kubectl sends', () => {
    const describeNode = parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed');
    assert.equal(describeNode.matches(running), true);
    assert.equal(describeNode.matches({ ...running, 'status.phase': 'Failed' }), false);
    assert.equal(describeNode.matches(pending), false);
    const byName = parseFieldSelector('metadata.name=web-1');
    assert.equal(byName.matches(running), true);
    assert.equal(byName.matches(pending), false);
  });

  test('== is =, and a missing field reads as the empty string', () => {
    assert.equal(parseFieldSelector('metadata.name==web-2').matches(pending), true);
    assert.equal(parseFieldSelector('spec.nodeName=').matches(pending), true, 'unscheduled pod');
    assert.equal(parseFieldSelector('spec.nodeName=').matches(running), false);
    assert.equal(parseFieldSelector('spec.nodeName!=').matches(running), true);
    assert.deepEqual(parseFieldSelector('a==b').requirements, [{ field: 'a', operator: '=', value: 'b' }]);
  });

  test('the empty selector matches everything', () => {
    for (const text of ['', ',']) {
      const selector = parseFieldSelector(text);
      assert.equal(selector.empty, true);
      assert.equal(selector.matches({}), true);
      assert.equal(selector.toString(), '');
    }
    assert.equal(FieldSelector.everything().matches(running), true);
  });

  test('escaped commas, equals signs and backslashes in values', () => {
    const selector = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,spec.x!=y');
    assert.deepEqual(selector.requirements, [
      { field: 'metadata.name', operator: '=', value: 'a,b=c\\d' },
      { field: 'spec.x', operator: '!=', value: 'y' },
    ]);
    assert.equal(selector.matches({ 'metadata.name': 'a,b=c\\d', 'spec.x': 'z' }), true);
    assert.equal(selector.toString(), 'metadata.name=a\\,b\\=c\\\\d,spec.x!=y');
    assert.equal(escapeFieldValue('a,b=c\\'), 'a\\,b\\=c\\\\');
    assert.equal(parseFieldSelector(selector.toString()).toString(), selector.toString());
  });

  test('terms are sorted, so equal selectors print equally', () => {
    assert.equal(parseFieldSelector('status.phase!=Failed,metadata.name=x').toString(), 'metadata.name=x,status.phase!=Failed');
  });

  test('fieldsUsed, unsupportedFields and requiresExactMatch serve the API server', () => {
    const selector = parseFieldSelector('spec.nodeName=n1,status.phase!=Failed,status.phase!=Succeeded,spec.bogus=1');
    assert.deepEqual(selector.fieldsUsed, ['spec.bogus', 'spec.nodeName', 'status.phase']);
    assert.deepEqual(selector.unsupportedFields(new Set(['metadata.name', 'spec.nodeName', 'status.phase'])), ['spec.bogus']);
    assert.equal(selector.requiresExactMatch('spec.nodeName'), 'n1');
    assert.equal(selector.requiresExactMatch('status.phase'), undefined);
  });

  test('transform rewrites requirements', () => {
    const selector = parseFieldSelector('spec.host=n1').transform((r) => (r.field === 'spec.host' ? { ...r, field: 'spec.nodeName' } : r));
    assert.equal(selector.toString(), 'spec.nodeName=n1');
  });

  test('fieldSelectorFromSet', () => {
    const selector = fieldSelectorFromSet({ 'spec.nodeName': 'n1', 'metadata.name': 'x' });
    assert.equal(selector.toString(), 'metadata.name=x,spec.nodeName=n1');
    assert.equal(fieldSelectorFromSet({}).empty, true);
  });

  test('errors carry Kubernetes messages', () => {
    assert.equal(badRequestMessage(() => parseFieldSelector('metadata.name')), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b,c')), "invalid selector: 'a=b,c'; can't understand 'c'");
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b\\x')), 'invalid field selector: invalid escape sequence: \\x');
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b\\')), 'invalid field selector: invalid escape sequence: \\');
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b=c')), 'invalid field selector: unescaped character in value: 61');
  });
});
