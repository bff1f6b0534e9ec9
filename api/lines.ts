// The lines of a byte stream: newline-delimited JSON as watch streams and Docker's event stream
// carry it. A chunk may end anywhere, inside a line or inside a UTF-8 character (a name or a
// value in any script): the decoder holds such bytes back until the next chunk completes them.
// A burst may bring many lines in one chunk: they are walked in place and the rest is cut once.

import { StringDecoder } from 'node:string_decoder';

/** Each complete line of `stream`, without its newline; a last line without one is dropped. */
export async function* streamLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n', start)) {
      const line = buffered.slice(start, newline);
      start = newline + 1;
      yield line;
    }
    if (start > 0) buffered = buffered.slice(start);
  }
}
