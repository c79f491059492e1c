import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUT_ERROR_HEADER } from '../../streams/kernel/input-error.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { readEventFile } from './event-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-event-files-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
async function read(path: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const batch of readEventFile(path)) out.push(...batch);
  return out;
}
const flagged = (ms: Message[]) => ms.filter((m) => m.headers?.[INPUT_ERROR_HEADER] !== undefined);
const good = (ms: Message[]) => ms.filter((m) => m.headers?.[INPUT_ERROR_HEADER] === undefined);
const nab = (i: number) =>
  `${new Date(Date.UTC(2014, 6, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},${i}.5`;

describe('NAB CSV files, line by line', () => {
  it('a stray quote costs its own line only, whatever the quote does: the other 199 of 200 rows are read', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => nab(i));
    const strays = {
      'unclosed quote': (r: string) => r.replace(',', ',"'), // csv-parse would swallow every line after it
      'closing quote then text': (r: string) => `"${r.replace(',', '"x,')}`,
      'quote inside a field': (r: string) => `${r}"`,
    };
    const reasons: string[] = [];
    for (const [name, spoil] of Object.entries(strays)) {
      const lines = [...rows];
      lines[57] = spoil(lines[57]!);
      const messages = await read(
        file(`stray-${name.replaceAll(' ', '-')}.csv`, `timestamp,value\n${lines.join('\n')}\n`),
      );
      expect(messages, name).toHaveLength(200);
      expect(good(messages), name).toHaveLength(199);
      const [bad] = flagged(messages);
      expect(bad!.headers![INPUT_ERROR_HEADER], name).toMatch(
        new RegExp(`^stray-${name.replaceAll(' ', '-')}\\.csv line 59: .*(Quote|quote)`),
      );
      // csv-parse's own line number is of the line alone
      expect(bad!.headers![INPUT_ERROR_HEADER], name).not.toMatch(/at line 1\b/);
      expect(bad!.value.toString(), name).toBe(lines[57]); // the original bytes travel, for the dead letter
      expect(bad!.timestamp).toBe(0);
      // The rows after the bad one are all there, with their own event times.
      expect(JSON.parse(good(messages).at(-1)!.value.toString())).toMatchObject({
        key: `stray-${name.replaceAll(' ', '-')}`,
        value: 199.5,
      });
      reasons.push(bad!.headers![INPUT_ERROR_HEADER]!);
    }
    console.log(`stray quotes:\n  ${reasons.join('\n  ')}`);
  });

  it('flags rows with a wrong field count and invalid UTF-8 with line numbers; quoted rows still read', async () => {
    const content = Buffer.concat([
      Buffer.from(
        `\uFEFFtimestamp,value\n${nab(0)}\n${nab(1)},7\n2014-07-01 00:10:00\n"2014-07-01 00:15:00","3.25"\r\n`,
      ),
      Buffer.from('2014-07-01 00:20:00,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n\n'),
      Buffer.from(`${nab(5)}\n2014-07-01 00:30:00,n/a\n`),
    ]);
    const messages = await read(file('columns.csv', content));
    expect(flagged(messages).map((m) => m.headers![INPUT_ERROR_HEADER])).toEqual([
      'columns.csv line 3: 3 fields, the header has 2 (timestamp,value)',
      'columns.csv line 4: 1 fields, the header has 2 (timestamp,value)',
      'columns.csv line 6: not valid UTF-8',
    ]);
    expect(
      flagged(messages)[2]!.value.equals(
        Buffer.concat([Buffer.from('2014-07-01 00:20:00,'), Buffer.from([0xff, 0xfe])]),
      ),
    ).toBe(true);
    const values = good(messages).map((m) => JSON.parse(m.value.toString()));
    // "n/a" stays as written, for the pipeline's reason
    expect(values.map((v) => v.value)).toEqual([0.5, 3.25, 5.5, 'n/a']);
    expect(good(messages).map((m) => m.timestamp)).toEqual([0, 15, 25, 30].map((min) => Date.UTC(2014, 6, 1, 0, min)));
  });
});

describe('JSON lines', () => {
  it('give every message a timestamp each transport takes and a well-formed key, whatever the line says', async () => {
    const lines = [
      '{"key":"s","timestamp":"2014-07-01 00:00:00","value":1}',
      '{"key":"s","timestamp":9e18,"value":2}',
      '{"key":"s","timestamp":-1e308,"value":3}',
      '{"key":"s","timestamp":9223372036854775808,"value":4}',
      '{"key":"s","timestamp":1.5,"value":5}',
      '{"key":"x\\ud800","timestamp":"2014-07-01 00:05:00","value":6}',
      '{"key":"s","timestamp":',
    ];
    const messages = await read(file('probes.jsonl', `${lines.join('\n')}\n`));
    expect(messages.map((m) => m.timestamp)).toEqual([Date.UTC(2014, 6, 1), 0, 0, 0, 0, Date.UTC(2014, 6, 1, 0, 5), 0]);
    expect(messages.map((m) => m.key)).toEqual(['s', 's', 's', 's', 's', 'x\ufffd', 'probes']);
    messages.forEach((m, i) => {
      expect(m.value.toString()).toBe(lines[i]);
    }); // exact bytes: the pipeline judges them
  });
});
