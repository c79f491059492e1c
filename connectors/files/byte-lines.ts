import { createReadStream } from 'node:fs';

export interface ByteLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line's bytes exactly as in the file, without `\n` or `\r\n`. */
  bytes: Buffer;
}

/**
 * A file's lines as bytes, not text: a line with invalid UTF-8 keeps its exact bytes (readline would replace them
 * with U+FFFD), so a dead letter can carry what the file really held.
 */
export async function* readByteLines(file: string): AsyncGenerator<ByteLine> {
  // the start of a line that runs over chunk boundaries (kept as pieces: long lines stay linear)
  let pending: Buffer[] = [];
  let line = 0;
  const cut = (bytes: Buffer): ByteLine => {
    line += 1;
    return {
      line,
      bytes: bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes,
    };
  };
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      yield cut(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield cut(Buffer.concat(pending));
}
