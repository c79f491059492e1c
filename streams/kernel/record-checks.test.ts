import { describe, expect, it } from 'vitest';
import { MAX_EVENT_TIME, eventTimeProblem, keyProblem } from './record-checks.ts';
import { isWellFormed, safeText, toWellFormed } from './well-formed-text.ts';

describe('what the runtime can carry', () => {
  it('takes event times that are whole milliseconds from 1970 to 2200, and says what is wrong with others', () => {
    for (const ok of [0, 1, Date.UTC(2014, 6, 1), MAX_EVENT_TIME - 1]) expect(eventTimeProblem(ok)).toBeUndefined();
    expect(eventTimeProblem(9e18)).toBe(
      '9000000000000000000 is past 2199 (event times must be before 2200-01-01T00:00:00Z)',
    );
    expect(eventTimeProblem(2 ** 63)).toBe(
      '9223372036854776000 is past 2199 (event times must be before 2200-01-01T00:00:00Z)',
    );
    expect(eventTimeProblem(MAX_EVENT_TIME)).toMatch(/past 2199/);
    expect(eventTimeProblem(-1e308)).toBe('-1e+308 is before 1970-01-01T00:00:00Z');
    expect(eventTimeProblem(-1)).toBe('-1 is before 1970-01-01T00:00:00Z');
    expect(eventTimeProblem(1.5)).toBe('1.5 is not a whole number of milliseconds');
    expect(eventTimeProblem(Number.NaN)).toBe('NaN is not a time');
    expect(eventTimeProblem(Number.POSITIVE_INFINITY)).toBe('Infinity is not a time');
    expect(eventTimeProblem('12' as unknown as number)).toBe('12 is not a time');
  });

  it('takes keys that are valid Unicode and at most 1,024 characters', () => {
    for (const ok of ['nyc_taxi', '', 'x\u0000y', '😀 emoji pair', 'é'.repeat(1024)])
      expect(keyProblem(ok)).toBeUndefined();
    expect(keyProblem('x\ud800')).toBe('key "x\\ud800" is not valid Unicode (a lone UTF-16 surrogate)');
    expect(keyProblem('\udc00x')).toMatch(/not valid Unicode/);
    expect(keyProblem('k'.repeat(1025))).toBe('key is 1025 characters, above the 1024-character limit');
  });
});

describe('well-formed text', () => {
  it('replaces lone surrogates, keeps pairs', () => {
    expect(isWellFormed('a\ud83d\ude00b')).toBe(true);
    expect(isWellFormed('a\ud83db')).toBe(false);
    expect(toWellFormed('a\ud83db\ude00')).toBe('a\ufffdb\ufffd');
  });

  it('safeText bounds the length, shows NULs and never cuts a surrogate pair in half', () => {
    expect(safeText('bad\u0000byte', 100)).toBe('bad\\0byte');
    const long = `${'x'.repeat(9)}😀${'y'.repeat(100)}`; // the pair sits on the cut at 10 characters
    const cut = safeText(long, 10);
    expect(isWellFormed(cut)).toBe(true);
    expect(cut).toBe(`${'x'.repeat(9)}\ufffd… (111 chars)`);
    expect(safeText('short', 10)).toBe('short');
  });
});
