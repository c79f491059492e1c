/**
 * CRC-32 (the IEEE polynomial of zlib, gzip and PNG): the checksum every embedded-log record carries (format.ts).
 *
 * Two routes to the same number. Node's `zlib.crc32` (Node ≥ 20.15) is the fastest on long ranges, but each call
 * costs about 300 ns (a subarray plus a call into C++), which alone would be half the read time of a 150-byte
 * record. A slicing-by-8 table loop in JS takes about 150 ns there. So short ranges use the loop and long ones
 * zlib, when this Node has it (measured on the 2-core development machine: the crossover is near 250 bytes).
 */
import zlib from 'node:zlib';

const nativeCrc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number })
  .crc32;
/** Ranges at least this long go to zlib. */
const NATIVE_FROM = 256;

/** 8 tables of 256: T[k][n] is the CRC of byte n followed by k zero bytes. */
const TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32(buf: Uint8Array, start: number, end: number): number {
  if (nativeCrc32 !== undefined && end - start >= NATIVE_FROM) return nativeCrc32(buf.subarray(start, end)) >>> 0;
  return crc32Table(buf, start, end);
}

/** The table loop alone (exported so tests can hold it against zlib). */
export function crc32Table(buf: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ c;
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
