import { describe, expect, it } from 'vitest';
import { csvField } from './csv.ts';
import { formatRows } from './sql.ts';

describe('csvField', () => {
  it("prefixes formula-leading text with ' and quotes it (OWASP CSV injection)", () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField('+1+cmd|/C calc!A0')).toBe(`"'+1+cmd|/C calc!A0"`);
    expect(csvField('-2+3')).toBe(`"'-2+3"`);
    expect(csvField('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvField('\t=1')).toBe(`"'\t=1"`);
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
  });

  it('leaves ordinary text and numbers as they were', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('x=1')).toBe('x=1');
    expect(csvField('-3.5', 'number')).toBe('-3.5');
  });
});

describe('sql --format csv', () => {
  it('escapes formula-leading strings in cells and headers, not negative numbers', () => {
    const rows = [{ title: '=cmd|"/C calc"!A0', delta: -3.5, n: -2n, note: '-dash', ok: 'fine' }, { '@header': 1 }];
    expect(formatRows(rows, 'csv').split('\n')).toEqual([
      `title,delta,n,note,ok,"'@header"`,
      `"'=cmd|""/C calc""!A0",-3.5,-2,"'-dash",fine,`,
      ',,,,,1',
      '',
    ]);
  });
});
