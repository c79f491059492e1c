import { describe, expect, it } from 'vitest';
import { tableDef } from './tables.ts';
import { rowValidator } from './validate.ts';

describe('row validation', () => {
  it('refuses lone surrogates in every text column type (ClickHouse fails the INSERT, DuckDB writes U+FFFD)', () => {
    const events = rowValidator(tableDef('events'));
    const row = { id: 'a', version: 0, source: 's', key: 'k', ts: 1, value: 1, attributes: '{}' };
    expect(events(row)).toBeUndefined();
    expect(events({ ...row, key: '😀' })).toBeUndefined();
    expect(events({ ...row, key: 'x\ud800' })).toBe(
      'column key: "x\\ud800" is not a valid string (not valid Unicode: a lone UTF-16 surrogate)',
    );
    expect(events({ ...row, attributes: '{"a":"\udc00"}' })).toMatch(
      /^column attributes: .* is not a valid json_string \(not valid Unicode/,
    );
    const postings = rowValidator(tableDef('postings'));
    const skills = Object.fromEntries(
      tableDef('postings')
        .columns.filter((c) => c.type === 'array_string')
        .map((c) => [c.name, ['ok', '\ud800']]),
    );
    expect(Object.keys(skills).length).toBeGreaterThan(0);
    expect(postings(skills)).toBeDefined();
  });
});
