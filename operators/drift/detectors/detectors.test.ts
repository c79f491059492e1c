/**
 * ADWIN and Page-Hinkley against river (scripts/fixtures/drift_stats.py): the same detection indices on every
 * stream, and for ADWIN the same window width and mean at checkpoints.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, fixtures } from '../fixtures/drift-fixtures.ts';
import { Adwin, type AdwinOptions } from './adwin.ts';
import { PageHinkley, type PageHinkleyOptions } from './page-hinkley.ts';

const label = (stream: string, options: object) => `${stream} ${JSON.stringify(options)}`;

describe('Adwin = river.drift.ADWIN', () => {
  it.each(fixtures.adwin.map((c) => [label(c.stream, c.options), c] as const))('%s', (_label, c) => {
    const adwin = new Adwin(c.options as AdwinOptions);
    const detections: number[] = [];
    const checkpoints: { index: number; width: number; estimation: number; variance: number }[] = [];
    const checkpointIndices = new Set(c.checkpoints.map((p) => p.index));
    fixtures.streams[c.stream]!.forEach((x, i) => {
      if (adwin.update(x)) detections.push(i);
      expect(adwin.driftDetected).toBe(detections.at(-1) === i);
      if (checkpointIndices.has(i))
        checkpoints.push({ index: i, width: adwin.width, estimation: adwin.estimation, variance: adwin.variance });
    });
    expect(detections).toEqual(c.detections);
    expect(checkpoints.map((p) => p.width)).toEqual(c.checkpoints.map((p) => p.width));
    checkpoints.forEach((p, k) => {
      expectClose(p.estimation, c.checkpoints[k]!.estimation, `estimation at ${p.index}`, 1e-12);
      expectClose(p.variance, c.checkpoints[k]!.variance, `variance at ${p.index}`, 1e-12);
    });
  });

  it('the fixtures include a stationary stream without detections and shifted ones with', () => {
    const byStream = new Map(
      fixtures.adwin.filter((c) => Object.keys(c.options).length === 0).map((c) => [c.stream, c.detections]),
    );
    expect(byStream.get('stationary')).toEqual([]);
    for (const s of ['mean_shift', 'two_shifts', 'gradual', 'noisy'])
      expect(byStream.get(s)!.length).toBeGreaterThan(0);
  });

  it("uses river's defaults and starts afresh after a detection", () => {
    const adwin = new Adwin();
    expect([adwin.delta, adwin.clock, adwin.maxBuckets, adwin.minWindowLength, adwin.gracePeriod]).toEqual([
      0.002, 32, 5, 5, 10,
    ]);
    expect(adwin.estimation).toBe(0);
    const stream = fixtures.streams.mean_shift!;
    const first = stream.findIndex((x) => adwin.update(x));
    expect(first).toBe(
      fixtures.adwin.find((c) => c.stream === 'mean_shift' && Object.keys(c.options).length === 0)!.detections[0],
    );
    const widthAtDetection = adwin.width;
    expect(widthAtDetection).toBeLessThan(first + 1); // the old part of the window was dropped
    adwin.update(stream[first + 1]!);
    expect(adwin.width).toBe(1);
    expect(adwin.driftDetected).toBe(false);
  });
});

describe('PageHinkley = river.drift.PageHinkley', () => {
  it.each(fixtures.pageHinkley.map((c) => [label(c.stream, c.options), c] as const))('%s', (_label, c) => {
    const detector = new PageHinkley(c.options as PageHinkleyOptions);
    const detections: number[] = [];
    fixtures.streams[c.stream]!.forEach((x, i) => {
      if (detector.update(x)) detections.push(i);
    });
    expect(detections).toEqual(c.detections);
  });

  it('the fixtures include a stationary stream without detections and shifted ones with', () => {
    const byStream = new Map(
      fixtures.pageHinkley.filter((c) => Object.keys(c.options).length === 0).map((c) => [c.stream, c.detections]),
    );
    expect(byStream.get('stationary')).toEqual([]);
    for (const s of ['mean_shift', 'two_shifts', 'gradual', 'noisy'])
      expect(byStream.get(s)!.length).toBeGreaterThan(0);
  });

  it("uses river's defaults and rejects an unknown mode", () => {
    const ph = new PageHinkley();
    expect([ph.minInstances, ph.delta, ph.threshold, ph.alpha, ph.mode]).toEqual([30, 0.005, 50, 1 - 0.0001, 'both']);
    expect(() => new PageHinkley({ mode: 'sideways' as 'up' })).toThrow(/mode/);
  });
});
