import { describe, expect, it } from 'vitest';
import { Progress, statusLine } from '../../cli/demo/progress.ts';

/** A stream that keeps what is written. */
function fakeStream(tty: boolean) {
  const chunks: string[] = [];
  const stream = {
    isTTY: tty,
    columns: 60,
    write: (chunk: string) => chunks.push(chunk) > 0,
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('demo progress display', () => {
  it('formats step n/N, elapsed time, and a record count with its rate (or the latest note)', () => {
    expect(statusLine({ index: 3, total: 7, name: 'replay postings', elapsedMs: 12_340 })).toBe(
      '[3/7] replay postings · 12.3 s',
    );
    expect(statusLine({ index: 3, total: 7, name: 'replay postings', elapsedMs: 4_000, records: 12_345 })).toBe(
      '[3/7] replay postings · 4.0 s · 12,345 records (3,086/s)',
    );
    expect(statusLine({ index: 6, total: 7, name: 'bench', elapsedMs: 1_000, note: 'postings-a fp32' })).toBe(
      '[6/7] bench · 1.0 s · postings-a fp32',
    );
  });

  it('without a terminal: plain lines at start, while counting (heartbeat) and at the end; timings kept', () => {
    const { stream, text } = fakeStream(false);
    const progress = new Progress(2, { out: stream, heartbeatMs: 0 });
    progress.start('prepare data');
    progress.done('generated fixtures');
    progress.start('replay events');
    progress.records(500);
    progress.done('500 records');
    progress.close();
    const lines = text().trimEnd().split('\n');
    expect(lines[0]).toBe('[1/2] prepare data…');
    expect(lines[1]).toMatch(/^\[1\/2\] prepare data: generated fixtures \(\d+\.\d s\)$/);
    expect(lines[2]).toBe('[2/2] replay events…');
    expect(lines[3]).toMatch(/^\[2\/2\] replay events · \d+\.\d s · 500 records \([\d,]+\/s\)$/);
    expect(lines[4]).toMatch(/^\[2\/2\] replay events: 500 records/);
    expect(text()).not.toContain('\r');
    expect(progress.timings.map((t) => t.name)).toEqual(['prepare data', 'replay events']);
  });

  it('on a terminal: one line redrawn in place, cleared before other output and at the end', () => {
    const { stream, text } = fakeStream(true);
    const progress = new Progress(1, { out: stream });
    progress.start('models');
    try {
      process.stdout.write(''); // other output goes through the hook, which clears the status line first
      // The status line between two clears (carriage return + erase line).
      expect(text().split('\r\x1b[2K')).toEqual(['', expect.stringMatching(/^\[1\/1\] models · 0\.\d s$/), '']);
      progress.done('reused');
    } finally {
      progress.close();
    }
    expect(text().endsWith('\r\x1b[2K[1/1] models: reused (0.0 s)\n')).toBe(true);
  });
});
