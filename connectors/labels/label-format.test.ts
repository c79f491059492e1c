import { describe, expect, it } from 'vitest';
import { decodeLabel, encodeLabel, parseLabeledAt, parseLabels } from './label-format.ts';

const classes = ['software_engineering', 'data_science'];
const NOW = Date.UTC(2026, 4, 6, 12, 0, 0);
const parse = (text: string | Buffer, source?: string) =>
  parseLabels(Buffer.isBuffer(text) ? text : Buffer.from(text), { classes, now: NOW, source });

describe('label file format', () => {
  it('reads JSON Lines: indexes, class names in any spelling, defaults, CRLF and blank lines', () => {
    const file = [
      '{"record_id":"47001","label":1}',
      '',
      '{"record_id":"47002","label":"Software Engineering","source":"alice","labeled_at":"2026-03-01T12:00:00Z"}\r',
      '   ',
      '{"record_id":47003,"label":"data-science","label_name":"ML ' +
        'Engineer","labeled_at":1772366400000,"note":"ignored"}',
    ].join('\n');
    const { labels, errors } = parse(file, 'file:a.jsonl');
    expect(errors).toEqual([]);
    expect(labels).toEqual([
      { record_id: '47001', label: 1, label_name: 'data_science', source: 'file:a.jsonl', labeled_at: NOW },
      {
        record_id: '47002',
        label: 0,
        label_name: 'software_engineering',
        source: 'alice',
        labeled_at: Date.UTC(2026, 2, 1, 12),
      },
      { record_id: '47003', label: 1, label_name: 'ML Engineer', source: 'file:a.jsonl', labeled_at: 1772366400000 },
    ]);
  });

  it('reports every bad line with its number, reason and exact bytes, and keeps the good lines around them', () => {
    const broken = Buffer.concat([
      Buffer.from('{"record_id":"9","label":"da'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const lines: Buffer[] = [
      Buffer.from('{"record_id":"1","label":0}'),
      Buffer.from('{"record_id":"2","label":2}'), // line 2: index out of range
      Buffer.from('{"record_id":"3","label":"devops"}'), // 3: unknown class
      Buffer.from('{"record_id":"","label":0}'), // 4: empty id
      Buffer.from('{"label":1}'), // 5: no id
      Buffer.from('{"record_id":"6","label":1.5}'), // 6: not an index
      Buffer.from('{"record_id":"7","label":1'), // 7: truncated JSON
      broken, // 8: invalid UTF-8
      Buffer.from('["record_id","8"]'), // 9: not an object
      Buffer.from('{"record_id":"10","label":1,"labeled_at":1772366400}'), // 10: seconds, not ms
      Buffer.from('{"record_id":"11","label":1,"labeled_at":"2026-02-30"}'), // 11: no such day
      Buffer.from('{"record_id":"12","label":1,"labeled_at":"yesterday"}'), // 12: not a date
      Buffer.from('{"record_id":"13","label":0,"source":""}'), // 13: empty source
      Buffer.from('{"record_id":"14","label":1}'),
    ];
    const { labels, errors } = parse(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    expect(labels.map((l) => l.record_id)).toEqual(['1', '14']);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (const e of errors) expect(e.original.equals(lines[e.line - 1]!)).toBe(true);
    const reason = (line: number) => errors.find((e) => e.line === line)!.reason;
    expect(reason(2)).toBe('"label" must be a class index 0..1 or one of software_engineering, data_science, got 2');
    expect(reason(3)).toContain('unknown class "devops"');
    expect(reason(4)).toContain('"record_id" must be a non-empty string');
    expect(reason(5)).toContain('the field is missing');
    expect(reason(6)).toContain('got 1.5');
    expect(reason(7)).toMatch(/^not valid JSON/);
    expect(reason(8)).toBe('not valid UTF-8');
    expect(reason(9)).toBe('a label must be a JSON object');
    expect(reason(10)).toContain('looks like epoch seconds');
    expect(reason(11)).toContain('ISO 8601');
    expect(reason(12)).toContain('"yesterday"');
    expect(reason(13)).toContain('"source" must be a non-empty string');
  });

  it('reads a JSON array element by element: line numbers, original bytes, a bad element spoils no other', () => {
    const text = [
      '[',
      '  {"record_id": "a", "label": "data_science", "note": "has, commas ] and [ brackets"},',
      '  {"record_id": "b", "label": 7},',
      '  {"record_id": "c",',
      '   "label": 0}',
      ']',
    ].join('\n');
    const { labels, errors } = parse(text);
    expect(labels.map((l) => [l.record_id, l.label])).toEqual([
      ['a', 1],
      ['c', 0],
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(3);
    expect(errors[0]!.original.toString()).toBe('{"record_id": "b", "label": 7}');

    const unclosed = parse('[{"record_id":"x","label":0},\n {"record_id":"y","label":1}');
    expect(unclosed.labels.map((l) => l.record_id)).toEqual(['x']);
    expect(unclosed.errors).toEqual([
      { line: 2, reason: expect.stringContaining('not closed'), original: Buffer.from('{"record_id":"y","label":1}') },
    ]);

    const trailing = parse('[{"record_id":"x","label":0}]\n\ngarbage');
    expect(trailing.labels).toHaveLength(1);
    expect(trailing.errors.map((e) => [e.line, e.original.toString()])).toEqual([[3, 'garbage']]);
    expect(parse('\ufeff[]').labels).toEqual([]);
  });

  it('timestamps: ISO with zone, zone-less taken as UTC, date only, epoch ms', () => {
    expect(parseLabeledAt('2026-03-01T12:00:00+01:00')).toBe(Date.UTC(2026, 2, 1, 11));
    expect(parseLabeledAt('2026-03-01T12:00:00')).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseLabeledAt('2026-03-01 12:00:00.250Z')).toBe(Date.UTC(2026, 2, 1, 12, 0, 0, 250));
    expect(parseLabeledAt('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseLabeledAt(1772366400000.4)).toBe(1772366400000);
    expect(() => parseLabeledAt('03/01/2026')).toThrow(/ISO 8601/);
    expect(() => parseLabeledAt(Number.NaN)).toThrow(/finite/);
    expect(() => parseLabeledAt(true)).toThrow(/ISO 8601/);
  });

  it('topic form: encode → decode round trip, keyed by record id, event time = labeled_at', () => {
    const label = {
      record_id: '47001',
      label: 1,
      label_name: 'ML Engineer',
      source: 'alice',
      labeled_at: Date.UTC(2026, 3, 1),
    };
    const message = encodeLabel(label);
    expect(message.key).toBe('47001');
    expect(message.timestamp).toBe(label.labeled_at);
    expect(decodeLabel(message.value, { classes })).toEqual(label);
    // a hand-written file line is a valid topic value too
    expect(
      decodeLabel(Buffer.from('{"record_id":"5","label":"data_science"}'), { classes, now: NOW, source: 'topic' }),
    ).toEqual({ record_id: '5', label: 1, label_name: 'data_science', source: 'topic', labeled_at: NOW });
    expect(() => decodeLabel(Buffer.from('{"record_id":"5"}'), { classes })).toThrow(/"label" must be/);
  });
});
