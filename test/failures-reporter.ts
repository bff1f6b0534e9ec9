// A node:test reporter that prints, once every file has run, each failed test with its suite path,
// file and line, and its error. The TAP stream shows a failure where it happened, among hundreds of
// lines; CI keeps only part of the output, so the run ends with the failures themselves.

import { relative } from 'node:path';
import { inspect } from 'node:util';

interface TestEvent {
  type: string;
  data: {
    name: string;
    nesting: number;
    file?: string;
    line?: number;
    details?: { error?: { failureType?: string; cause?: unknown } };
  };
}

/**
 * The failed test's own error (node wraps it in a TestFailure whose cause is what was thrown): its
 * message and the frames of our code, without the test runner's.
 */
function describeError(error: { cause?: unknown } | undefined): string {
  const cause = error?.cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : inspect(cause, { depth: 4 });
  return text
    .split('\n')
    .filter((line) => !/^\s+at .*(node:internal|node:async_hooks|\(<anonymous>\))/.test(line))
    .join('\n');
}

export default async function* failuresReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  // Each file's tests start in nesting order; the path of names above a test is kept per file.
  const paths = new Map<string, string[]>();
  const failures: string[] = [];
  for await (const event of source) {
    const { data } = event;
    const key = data.file ?? '';
    if (event.type === 'test:start') {
      const path = paths.get(key) ?? [];
      path.length = data.nesting;
      path.push(data.name);
      paths.set(key, path);
    } else if (event.type === 'test:fail') {
      // A suite fails because a test inside it did, and a test is cancelled because its suite failed;
      // the failure itself is reported where it happened.
      if (['subtestsFailed', 'cancelledByParent'].includes(data.details?.error?.failureType ?? '')) continue;
      const path = (paths.get(key) ?? []).slice(0, data.nesting).concat(data.name);
      const where = data.file ? `${relative(process.cwd(), data.file)}:${data.line ?? '?'}` : '(no file)';
      failures.push(`✖ ${path.join(' › ')}\n  at ${where}\n  ${describeError(data.details?.error).replaceAll('\n', '\n  ')}\n`);
    }
  }
  if (failures.length > 0) yield `\n# ${failures.length} failed:\n\n${failures.join('\n')}`;
}
