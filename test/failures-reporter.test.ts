// The summary at the end of a test run names each failed test by its suite path, file and line,
// with its error, and leaves out the suites and cancelled tests that failed only because of it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import failuresReporter from './failures-reporter.js';

type Event = Parameters<typeof failuresReporter>[0] extends AsyncIterable<infer E> ? E : never;

async function report(events: Event[]): Promise<string> {
  async function* source(): AsyncGenerator<Event> {
    yield* events;
  }
  let out = '';
  for await (const chunk of failuresReporter(source())) out += chunk;
  return out;
}

const failure = (cause: unknown, failureType = 'testCodeFailure') => ({ error: Object.assign(new Error('test failed'), { failureType, cause }) });

test('failed tests are listed with their suite path, place and own error; their suites and cancelled tests are not', async () => {
  const a = '/work/t/a.test.js';
  const b = '/work/t/b.test.js';
  const out = await report([
    { type: 'test:start', data: { name: 'outer', nesting: 0, file: a } },
    { type: 'test:start', data: { name: 'inner', nesting: 1, file: a } },
    // Another file's events arrive in between (files run concurrently).
    { type: 'test:start', data: { name: 'other', nesting: 0, file: b } },
    { type: 'test:start', data: { name: 'compares', nesting: 2, file: a } },
    { type: 'test:fail', data: { name: 'compares', nesting: 2, file: a, line: 12, details: failure(new Error('one is not two')) } },
    { type: 'test:fail', data: { name: 'other', nesting: 0, file: b, line: 3, details: failure('a thrown string') } },
    { type: 'test:start', data: { name: 'later', nesting: 1, file: a } },
    { type: 'test:fail', data: { name: 'later', nesting: 1, file: a, line: 20, details: failure(undefined, 'cancelledByParent') } },
    { type: 'test:fail', data: { name: 'outer', nesting: 0, file: a, line: 1, details: failure(undefined, 'subtestsFailed') } },
  ]);
  assert.match(out, /^\n# 2 failed:\n/);
  assert.match(out, /✖ outer › inner › compares\n {2}at \S*a\.test\.js:12\n {2}Error: one is not two\n/);
  assert.match(out, /✖ other\n {2}at \S*b\.test\.js:3\n {2}'a thrown string'/);
  assert.doesNotMatch(out, /later|✖ outer\n/);
  assert.doesNotMatch(out, /node:internal/);
});

test('a run without failures adds nothing', async () => {
  assert.equal(await report([{ type: 'test:start', data: { name: 'fine', nesting: 0, file: '/x.test.js' } }, { type: 'test:pass', data: { name: 'fine', nesting: 0, file: '/x.test.js' } }]), '');
});
