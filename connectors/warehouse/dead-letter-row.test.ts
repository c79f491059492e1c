import { describe, expect, it } from 'vitest';
import { isWellFormed } from '../../streams/kernel/well-formed-text.ts';
import { deadLetterRow, MAX_REASON_CHARS } from './dead-letter-row.ts';
import { letter, POISON_LETTERS } from './fixtures/poison-letters.ts';
import { tableDef } from './tables.ts';
import { rowValidator } from './validate.ts';

describe('dead_letters rows', () => {
  it('fit the table whatever the dead letter held', () => {
    const problem = rowValidator(tableDef('dead_letters'));
    for (const l of POISON_LETTERS)
      expect(problem(deadLetterRow(l)), JSON.stringify(l.error.slice(0, 40))).toBeUndefined();
  });

  it('keep what they can, say what they changed: event time beside a 0, bounded well-formed text, exact bytes', () => {
    expect(deadLetterRow(letter({ eventTime: 9e18 }))).toMatchObject({
      event_time: 0,
      event_time_original: '9000000000000000000',
    });
    expect(deadLetterRow(letter({ eventTime: 1.5 }))).toMatchObject({ event_time: 0, event_time_original: '1.5' });
    expect(deadLetterRow(letter())).toMatchObject({ event_time: 1_404_172_800_000, event_time_original: null });
    const long = deadLetterRow(POISON_LETTERS[6]!);
    expect(String(long.error).startsWith('NUL\\0 and a lone \ufffd in a long')).toBe(true);
    expect(String(long.error).length).toBeLessThan(MAX_REASON_CHARS + 40);
    expect(String(long.error)).toMatch(/… \(250,029 chars\)$/);
    const odd = deadLetterRow(POISON_LETTERS[7]!);
    expect([odd.id, odd.stage, odd.topic].every((t) => isWellFormed(String(t)))).toBe(true);
    expect(odd).toMatchObject({ partition: -1, offset: -1 });
    expect(deadLetterRow(letter({ key: 'x\ud800' })).key).toBe('x\ufffd');
    expect(
      Buffer.from(String(deadLetterRow(POISON_LETTERS[8]!).original), 'base64').equals(POISON_LETTERS[8]!.original),
    ).toBe(true);
  });
});
