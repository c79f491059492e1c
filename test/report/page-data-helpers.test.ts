/** Pure helpers of the report's page data and static server: canonical ordering, Pareto frontier, grouping. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalRows, canonicalValue, pageJson } from '../../reports/page-data/canonical.ts';
import { accuracyWindows, MIN_LABELLED } from '../../reports/page-data/accuracy-windows.ts';
import { parseModelRef } from '../../reports/page-data/drift.ts';
import { downsample, seriesOfDriftId } from '../../reports/page-data/events.ts';
import { paretoFrontier } from '../../reports/page-data/pareto.ts';
import { dataflowOrder, deadLettersByReason } from '../../reports/page-data/pipelines.ts';
import { postingHeading } from '../../reports/page-data/posting-heading.ts';
import { markFrontier } from '../../reports/page-data/trade-offs.ts';
import { latestPerPipeline } from '../../connectors/warehouse/warehouse-reader.ts';
import { slotOf, windowAxis, windowPosition } from '../../reports/page-data/window-axis.ts';
import { resolveRequest } from '../../reports/serve.ts';

describe('canonical page data', () => {
  it('makes numbers from either warehouse identical: bigint, float noise, -0, non-finite', () => {
    expect(canonicalValue(12n)).toBe(12);
    expect(canonicalValue(0.1 + 0.2)).toBe(0.3);
    expect(canonicalValue(0.30000000000000004)).toBe(canonicalValue(0.3));
    expect(canonicalValue(1776643200000)).toBe(1776643200000); // integers (epoch ms) are never rounded
    expect(Object.is(canonicalValue(-0), 0)).toBe(true);
    expect(canonicalValue(Number.NaN)).toBeNull();
    expect(canonicalValue(undefined)).toBeNull();
    expect(canonicalValue({ b: 1n, a: [0.1 + 0.2] })).toEqual({ a: [0.3], b: 1 });
  });

  it('sorts rows by the given keys, descending with "-", ties by the whole row, strings by code unit', () => {
    const rows = [
      { w: 2, term: 'b', n: 1n },
      { w: 1, term: 'a', n: 3 },
      { w: 2, term: 'B', n: 2 },
      { w: null, term: 'z', n: 0 },
      { w: 2, term: 'b', n: 0 },
    ];
    const sorted = canonicalRows(rows, ['-w', 'term']);
    expect(sorted.map((r) => [r.w, r.term, r.n])).toEqual([
      [2, 'B', 2],
      [2, 'b', 0],
      [2, 'b', 1],
      [1, 'a', 3],
      [null, 'z', 0],
    ]);
    // The input order does not matter.
    expect(canonicalRows([...rows].reverse(), ['-w', 'term'])).toEqual(sorted);
    expect(pageJson({ b: [2], a: 1 })).toBe('{\n "a": 1,\n "b": [\n  2\n ]\n}\n');
  });
});

describe('Pareto frontier', () => {
  const min = (k: string) => ({ value: (r: Record<string, number | null>) => r[k] ?? null, goal: 'min' as const });
  const max = (k: string) => ({ value: (r: Record<string, number | null>) => r[k] ?? null, goal: 'max' as const });

  it('keeps the options no other beats on every objective', () => {
    const options = [
      { ms: 1, acc: 0.9 }, // fastest
      { ms: 2, acc: 0.95 }, // more accurate
      { ms: 3, acc: 0.94 }, // dominated by the second
      { ms: 2, acc: 0.95 }, // tie with the second: both stay
      { ms: null, acc: 0.99 }, // no latency measured: never on it
    ];
    expect(paretoFrontier(options, [min('ms'), max('acc')])).toEqual([true, true, false, true, false]);
  });

  it('with more objectives, a trade-off on any one keeps an option', () => {
    const options = [
      { ms: 1, j: 5 },
      { ms: 2, j: 1 },
      { ms: 2, j: 5 },
    ];
    expect(paretoFrontier(options, [min('ms'), min('j')])).toEqual([true, true, false]);
    expect(() => paretoFrontier(options, [])).toThrow(/at least one objective/);
  });

  it('marks trade-off rows per model, over latency, accuracy, energy and memory', () => {
    const row = (model_id: string, p50_ms: number, accuracy: number, energy_j_per_1k: number, peak_rss_mb: number) => ({
      model_id,
      p50_ms,
      accuracy,
      energy_j_per_1k,
      peak_rss_mb,
    });
    const marked = markFrontier([
      row('a', 1, 0.9, 1, 100),
      row('a', 2, 0.9, 2, 200),
      row('a', 2, 0.9, 0.5, 200),
      row('b', 9, 0.5, 9, 900),
    ]);
    expect(marked.map((r) => [r.model_id, r.p50_ms, r.energy_j_per_1k, r.pareto])).toEqual([
      ['a', 1, 1, true],
      ['a', 2, 2, false],
      ['a', 2, 0.5, true],
      ['b', 9, 9, true], // alone in its model: nothing dominates it
    ]);
  });
});

describe('page data grouping', () => {
  it('picks the latest run per pipeline', () => {
    const latest = latestPerPipeline([
      { pipeline: 'events', run_id: 'r1', at: 10 },
      { pipeline: 'events', run_id: 'r2', at: 20 },
      { pipeline: 'postings', run_id: 'r0', at: 5 },
      { pipeline: 'events', run_id: 'r3', at: 20 },
    ]);
    expect(latest.get('events')?.run_id).toBe('r3');
    expect(latest.get('postings')?.run_id).toBe('r0');
  });

  it('reads model refs with their versions', () => {
    expect(parseModelRef('postings-b@v1,v2')).toEqual({ id: 'postings-b', versions: ['v1', 'v2'] });
    expect(parseModelRef('postings-a')).toEqual({ id: 'postings-a', versions: [] });
  });

  it('charts only the windows with enough labels, one slot each, and flags estimates off by more than 0.05', () => {
    const windows = accuracyWindows([
      {
        window_start: 0,
        window_end: 10,
        labeled: 0,
        accuracy_a: null,
        estimated_accuracy_a: 0.7,
        accuracy_b: null,
        estimated_accuracy_b: 0.7,
      },
      {
        window_start: 10,
        window_end: 20,
        labeled: MIN_LABELLED,
        accuracy_a: 0.6,
        estimated_accuracy_a: 0.9,
        accuracy_b: 0.9,
        estimated_accuracy_b: 0.86,
      },
      {
        window_start: 20,
        window_end: 30,
        labeled: 1,
        accuracy_a: 1,
        estimated_accuracy_a: 0.8,
        accuracy_b: 0,
        estimated_accuracy_b: 0.9,
      },
      {
        window_start: 40,
        window_end: 50,
        labeled: 300,
        accuracy_a: 0.8,
        estimated_accuracy_a: null,
        accuracy_b: 0.9,
        estimated_accuracy_b: 0.96,
      },
    ]);
    expect(windows.map((w) => w.charted)).toEqual([false, true, false, true]);
    expect(windows.map((w) => [w.estimate_off_a, w.estimate_off_b])).toEqual([
      [false, false],
      [true, false],
      [false, false],
      [false, true],
    ]);
    expect(windows[1]!.estimate_gap_a).toBeCloseTo(0.3);
    expect(windows[2]!.estimate_gap_b).toBeNull(); // one label: nothing to hold the estimate against
    expect(windows[3]!.estimate_gap_a).toBeNull();
    // Without a window that has enough labels every window is charted (estimates are all there is).
    expect(accuracyWindows([{ labeled: 0 }, { labeled: 2 }]).map((w) => w.charted)).toEqual([true, true]);
  });

  it('builds one window axis from the charted and tested windows: each once, by start, skipped spans marked', () => {
    const charted = [
      { window_start: 500, window_end: 600 },
      { window_start: 600, window_end: 700 },
    ];
    const tested = [
      { window_start: 100, window_end: 200 },
      { window_start: 500, window_end: 600 },
      { window_start: 200, window_end: 300 },
    ];
    const axis = windowAxis(charted, tested);
    expect(axis.map((w) => [w.window_start, w.gap_before])).toEqual([
      [100, false],
      [200, false],
      [500, true],
      [600, false],
    ]);
    expect([100, 600, 300].map((start) => slotOf(axis, start))).toEqual([0, 3, null]);
    expect(windowAxis([], [])).toEqual([]);
  });

  it('places event times on the window axis: inside a window by its share of it, in a gap on the boundary', () => {
    const shown = [
      { window_start: 100, window_end: 200 },
      { window_start: 500, window_end: 600 },
    ];
    expect(windowPosition(shown, 150)).toBe(0.5);
    expect(windowPosition(shown, 50)).toBe(0);
    expect(windowPosition(shown, 300)).toBe(1);
    expect(windowPosition(shown, 575)).toBe(1.75);
    expect(windowPosition(shown, 600)).toBe(2);
    expect(windowPosition([], 600)).toBe(0);
  });

  it('groups dead letters by stage and cut reason, and reads series keys and downsamples events', () => {
    const long = `bad ${'x'.repeat(500)}`;
    const grouped = deadLettersByReason([
      { stage: 'parse', error: long, n: 2 },
      { stage: 'parse', error: `${long}y`, n: 1n },
      { stage: 'schema', error: 'no title', n: 4 },
    ]);
    expect(grouped.map((g) => [g.stage, g.count, g.reason.length])).toEqual([
      ['parse', 3, 400],
      ['schema', 4, 8],
    ]);
    expect(seriesOfDriftId('run-1/events///nyc_taxi/1419496200000/z_score/change_point', 'run-1')).toBe('nyc_taxi');
    expect(seriesOfDriftId('other/events///nyc_taxi/1/z', 'run-1')).toBeNull();
    const points = Array.from({ length: 10 }, (_, i) => ({ ts: i, value: i }));
    expect(downsample(points, 4)).toEqual([
      { ts: 0, value: 1, min: 0, max: 2 },
      { ts: 3, value: 4, min: 3, max: 5 },
      { ts: 6, value: 7, min: 6, max: 8 },
      { ts: 9, value: 9, min: 9, max: 9 },
    ]);
  });
});

describe('static server paths', () => {
  it('serves files under the root only, with .html and index fallbacks', () => {
    const root = mkdtempSync(join(tmpdir(), 'driftline-serve-'));
    mkdirSync(join(root, 'sub'));
    for (const f of ['index.html', 'drift.html', 'sub/index.html', 'a.js']) writeFileSync(join(root, f), 'x');
    expect(resolveRequest(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveRequest(root, '/drift')).toBe(join(root, 'drift.html'));
    expect(resolveRequest(root, '/sub/')).toBe(join(root, 'sub', 'index.html'));
    expect(resolveRequest(root, '/a.js')).toBe(join(root, 'a.js'));
    expect(resolveRequest(root, '/../etc/passwd')).toBeNull();
    expect(resolveRequest(root, '/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveRequest(root, '/missing')).toBeNull();
    expect(resolveRequest(root, '/%E0%A4%A')).toBeNull();
  });
});

/** The Trade-offs page's recommendation (a browser module: plain JS, loaded by path so tsc leaves it alone). */
interface Bench {
  model_id: string;
  variant: string;
  backend: string;
  batch_size: number;
  threads: number;
  accuracy: number;
  p99_ms: number;
  model_memory_mb: number | null;
  energy_j_per_1k: number;
}
interface Pick {
  model: string;
  pick: Bench | null;
  fastest: Bench | null;
}
const recommendModule = '../../reports/src/components/recommend.js';

describe('report pages: recommendation, stage order, posting headings', () => {
  const row = (
    model_id: string,
    variant: string,
    accuracy: number,
    p99_ms: number,
    model_memory_mb: number | null,
    energy_j_per_1k = 1,
  ): Bench => ({
    model_id,
    variant,
    backend: 'onnxruntime',
    batch_size: 1,
    threads: 1,
    accuracy,
    p99_ms,
    model_memory_mb,
    energy_j_per_1k,
  });

  it('picks, per model, the most accurate configuration within the latency and memory budgets', async () => {
    const { recommend, configName, ms } = (await import(recommendModule)) as {
      recommend: (rows: Bench[], latency: number, memory: number) => Pick[];
      configName: (r: Bench) => string;
      ms: (x: number | null) => string;
    };
    const rows = [
      row('a', 'fp32', 0.9, 2, 40),
      row('a', 'int8', 0.88, 0.5, 10),
      row('a', 'int8-fast', 0.88, 0.4, 10, 2),
      row('b', 'fp32', 0.7, 1, null),
    ];
    const pick = (latency: number, memory: number) =>
      recommend(rows, latency, memory).map((p) => [p.model, p.pick?.variant ?? null]);
    expect(pick(10, 100)).toEqual([
      ['a', 'fp32'],
      ['b', 'fp32'],
    ]);
    expect(pick(1, 100)).toEqual([
      ['a', 'int8-fast'],
      ['b', 'fp32'],
    ]); // equal accuracy: the lower p99
    expect(pick(10, 20)).toEqual([
      ['a', 'int8-fast'],
      ['b', 'fp32'],
    ]); // memory budget; no figure counts as fitting
    expect(pick(0.3, 100)).toEqual([
      ['a', null],
      ['b', null],
    ]);
    expect(recommend(rows, 0.3, 100)[0]!.fastest!.variant).toBe('int8-fast');
    expect(configName({ ...rows[0]!, batch_size: 128, threads: 2 })).toBe('fp32 · onnxruntime · batch 128 · 2 threads');
    expect([0.05234, 0.119, 1.6, 26.05, 1234.5, null].map(ms)).toEqual(['0.052', '0.12', '1.6', '26', '1,235', '–']);
  });

  it('orders stages by recorded dataflow position, else source, processing (most records first), sinks, DLQ', () => {
    const recorded = [
      { stage: 'dead-letters', stage_index: 5, records_in: 2 },
      { stage: 'duckdb:postings', stage_index: 2, records_in: 10 },
      { stage: 'infer-a', stage_index: 3, records_in: 8 },
      { stage: 'parse', stage_index: 1, records_in: 10 },
      { stage: 'source:files', stage_index: 0, records_in: 10 },
      { stage: 'drift-window', stage_index: 4, records_in: 8 },
    ];
    expect(dataflowOrder(recorded).map((s) => s.stage)).toEqual([
      'source:files',
      'parse',
      'duckdb:postings',
      'infer-a',
      'drift-window',
      'dead-letters',
    ]);
    // Rows from before stage_index was recorded: estimated from the names and counts.
    const estimated = recorded.map(({ stage_index: _index, ...s }, i) => ({ ...s, stage_index: i === 0 ? 5 : null }));
    expect(dataflowOrder(estimated).map((s) => s.stage)).toEqual([
      'source:files',
      'parse',
      'drift-window',
      'infer-a',
      'duckdb:postings',
      'dead-letters',
    ]);
  });

  it('heads an HN posting with its role and company, not the company twice', () => {
    const hn = postingHeading({
      title: 'Regal.ai',
      company: 'Regal.ai',
      description: 'Regal.ai | Sr. Software Engineer | NYC Hybrid\nRegal is the AI Agent   Platform.',
    });
    expect(hn).toEqual({
      heading: 'Sr. Software Engineer',
      company: 'Regal.ai',
      excerpt: 'Regal is the AI Agent Platform.',
    });
    expect(
      postingHeading({
        title: 'Trace Labs',
        company: 'Trace Labs',
        description: 'Trace Labs | Remote (USA) | Full Time\nWe build.',
      }).heading,
    ).toBe('Trace Labs');
    expect(
      postingHeading({ title: 'Data Scientist', company: 'Acme', description: 'x'.repeat(500) }).excerpt,
    ).toHaveLength(160);
    expect(postingHeading({ title: 'Hiring now', company: null, description: 'Hiring now\nRemote.' })).toEqual({
      heading: 'Hiring now',
      company: null,
      excerpt: 'Remote.',
    });
  });
});
