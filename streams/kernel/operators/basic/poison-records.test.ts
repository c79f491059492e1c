import { describe, expect, it } from 'vitest';
import { INPUT_ERROR_HEADER } from '../../input-error.ts';
import type { StreamRecord } from '../../record.ts';
import type { Batch, Stage } from '../../stage.ts';
import { decodeJson } from './decode-json.ts';
import { assignEventTime } from './event-time.ts';
import { keyBy } from './key-by.ts';

const record = <T>(value: T, offset: number, headers: Record<string, string> = {}): StreamRecord<T> => ({
  key: null,
  value,
  eventTime: 0,
  headers,
  position: { topic: 't', partition: 0, offset },
});

/** Runs one batch through a stage: what it passed on, and the reasons of what it dead-lettered. */
function run<I, O>(stage: Stage<I, O>, records: StreamRecord<I>[]) {
  const passed: StreamRecord<O>[] = [];
  const dead: { offset: number; reason: string }[] = [];
  void stage.onBatch(
    { records, tokens: [] },
    {
      emit: (b: Batch<O>) => void passed.push(...b.records),
      emitSide: () => {},
      deadLetter: (r, e) => void dead.push({ offset: r.position.offset, reason: (e as Error).message }),
    },
  );
  return { passed, dead };
}

describe('stages dead-letter what the runtime cannot carry', () => {
  it("decode dead-letters a record its reader flagged, with the reader's reason, even when the bytes parse", () => {
    const { passed, dead } = run(decodeJson('decode'), [
      record(Buffer.from('{"a":1}'), 0),
      record(Buffer.from('{"a":2}'), 1, { [INPUT_ERROR_HEADER]: 'nab.csv line 59: Quote Not Closed' }),
    ]);
    expect(passed.map((r) => r.value)).toEqual([{ a: 1 }]);
    expect(dead).toEqual([{ offset: 1, reason: 'nab.csv line 59: Quote Not Closed' }]);
  });

  it('event time: whole milliseconds from 1970 to 2200 pass; 9e18, -1e308, 2^63, 1.5 and NaN are dead letters', () => {
    const times = [1_404_172_800_000, 9e18, -1e308, 2 ** 63, 1.5, Number.NaN, 0];
    const { passed, dead } = run(
      assignEventTime<number>('event-time', (t) => t),
      times.map((t, i) => record(t, i)),
    );
    expect(passed.map((r) => r.eventTime)).toEqual([1_404_172_800_000, 0]);
    expect(dead.map((d) => d.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(dead[1]!.reason).toBe('event time -1e+308 is before 1970-01-01T00:00:00Z');
  });

  it('keyBy dead-letters keys with lone surrogates and overlong keys', () => {
    const keys = ['nyc_taxi', 'x\ud800', 'k'.repeat(2_000), '😀'];
    const { passed, dead } = run(
      keyBy<string>('by-key', (k) => k),
      keys.map((k, i) => record(k, i)),
    );
    expect(passed.map((r) => r.key)).toEqual(['nyc_taxi', '😀']);
    expect(dead.map((d) => d.reason)).toEqual([
      'key "x\\ud800" is not valid Unicode (a lone UTF-16 surrogate)',
      'key is 2000 characters, above the 1024-character limit',
    ]);
  });
});
