// Prefix queries as key ranges. A prefix P matches exactly the keys k with P <= k < end(P), where
// end(P) is the smallest string greater than every string that starts with P. Expressing a
// prefix this way lets SQLite (and etcd, whose range_end works the same way) answer it from an
// index instead of scanning, and it never matches siblings: "/registry/pods/" does not match
// "/registry/podsx/a" because the range ends at "/registry/pods0".

/** Code points that cannot appear alone in well-formed text. */
const SURROGATE_FIRST = 0xd800;
const SURROGATE_LAST = 0xdfff;
const MAX_CODE_POINT = 0x10ffff;

/**
 * The exclusive upper bound of the keys that start with `prefix`, or undefined when every key
 * does (the empty prefix). Works on code points, whose order is the byte order of UTF-8 and so
 * SQLite's BINARY collation for TEXT.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? 0;
    if (last === MAX_CODE_POINT) continue; // nothing follows it: carry into the previous one
    const next = last + 1 === SURROGATE_FIRST ? SURROGATE_LAST + 1 : last + 1;
    return String.fromCodePoint(...codePoints, next);
  }
  return undefined;
}
