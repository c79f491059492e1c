import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from './crc32.ts';

describe('crc32', () => {
  it('gives the CRC-32 check value and agrees with zlib on every length and offset around the switch-over', () => {
    const check = Buffer.from('123456789');
    expect(crc32Table(check, 0, check.length)).toBe(0xcbf43926);
    expect(crc32(check, 0, check.length)).toBe(0xcbf43926);
    expect(crc32Table(check, 0, 0)).toBe(0);

    const data = randomBytes(2048);
    for (let length = 0; length <= 600; length++) {
      const start = length % 13;
      const want = zlib.crc32(data.subarray(start, start + length)) >>> 0;
      expect([length, crc32Table(data, start, start + length)]).toEqual([length, want]);
      expect([length, crc32(data, start, start + length)]).toEqual([length, want]);
    }
  });
});
