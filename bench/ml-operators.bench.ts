/**
 * Per-record cost of the ML operators driftline implements here, on real data, batches of 1,000 records, stage called
 * directly (no transport), medians with min/max over repeated runs:
 *   - drift-window: ingest (accumulating a window) per feature set, and the tests at window close per feature
 *     (window of 1,000 / 10,000 values against references of 1,000 and 30,000 rows);
 *   - pseudo-label: records/s through the stage with weekly windows closing.
 *   npx tsx bench/ml-operators.bench.ts [--quick]
 */
import { readFileSync } from 'node:fs';
import { hn2013Files, readHn2013 } from '../connectors/postings/index.ts';
import type { DriftFeatures } from '../operators/drift/drift-features.ts';
import { DEFAULT_THRESHOLDS } from '../operators/drift/drift-thresholds.ts';
import { driftWindow } from '../operators/drift/drift-window.ts';
import { categoricalTest, numericTests } from '../operators/drift/feature-tests.ts';
import { keywordSkew } from '../operators/drift/keyword-skew.ts';
import { buildReferenceProfile } from '../operators/drift/reference-profile.ts';
import { type JobPosting, normalizePosting } from '../operators/normalize/index.ts';
import { pseudoLabel } from '../operators/pseudo-label/pseudo-label.ts';
import { countWindow } from '../streams/kernel/operators/window/window-spec.ts';
import type { Prediction } from '../schemas/prediction.ts';
import { postingTextFeatures } from '../models/postings/drift-features.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { Stage, StageOutput } from '../streams/kernel/stage.ts';
import { dataFile } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const BATCH = 1000;

const sinkOutput: StageOutput<unknown> = { emit() {}, emitSide() {}, deadLetter() {} };
const record = <T>(value: T, i: number): StreamRecord<T> => ({
  key: null,
  value,
  eventTime: i,
  headers: {},
  position: { topic: 'bench', partition: 0, offset: i },
});

/** records/s of `stage` over `values` in batches of 1,000, ending the input each run. */
async function throughput<T>(
  makeStage: () => Stage<T, unknown>,
  values: T[],
  times: (i: number) => number = (i) => i,
): Promise<number[]> {
  const records = values.map((v, i) => ({ ...record(v, i), eventTime: times(i) }));
  const rates: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const stage = makeStage();
    const t0 = performance.now();
    for (let i = 0; i < records.length; i += BATCH)
      await stage.onBatch({ records: records.slice(i, i + BATCH), tokens: [] }, sinkOutput as StageOutput<unknown>);
    await stage.onEnd?.(sinkOutput as StageOutput<unknown>);
    if (run > 0) rates.push(records.length / ((performance.now() - t0) / 1000)); // run 0 warms up
  }
  return rates;
}

function timeIt(fn: () => unknown): number[] {
  const ms: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const t0 = performance.now();
    fn();
    if (run > 0) ms.push(performance.now() - t0);
  }
  return ms;
}

async function postings(): Promise<JobPosting[]> {
  const out: JobPosting[] = [];
  for await (const batch of readHn2013(await hn2013Files(dataFile('postings', 'hn-hiring-2013-2018')))) {
    for (const raw of batch) {
      try {
        out.push(normalizePosting(raw));
      } catch {
        /* malformed source rows are dead letters in pipelines */
      }
    }
  }
  return out;
}

function nabValues(file: string): number[] {
  return readFileSync(dataFile('events', 'nab', 'data', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[1]));
}

const line = (label: string, values: number[], unit: string) =>
  console.log(`  ${label.padEnd(58)} ${formatSpread(spread(values), unit)}`);

console.log(`ML operators — batches of ${BATCH}, ${RUNS} runs after a warm-up, Node ${process.version}`);

// --- drift-window ingest ---------------------------------------------------------------------------------------------
const all = await postings();
const reference = buildReferenceProfile(all.slice(0, 15_000), postingTextFeatures);
const live = all.slice(15_000, quick ? 20_000 : 28_000);
const temperature = nabValues('realKnownCause/machine_temperature_system_failure.csv');
const numericOnly: DriftFeatures<number> = { numeric: { value: (x) => x } };
const numericReference = buildReferenceProfile(temperature.slice(0, 2000), numericOnly);

console.log('\ndrift-window, ingest (records/s; one open window, tests at the end included)');
line(
  `postings: length + seniority + keywords (${live.length} rows)`,
  await throughput(
    () => driftWindow('d', { pipeline: 'b', reference, features: postingTextFeatures, window: countWindow(1e9) }),
    live,
  ),
  ' rec/s',
);
line(
  `postings: keywords only`,
  await throughput(
    () =>
      driftWindow('d', {
        pipeline: 'b',
        reference,
        features: { keywords: postingTextFeatures.keywords },
        window: countWindow(1e9),
      }),
    live,
  ),
  ' rec/s',
);
line(
  `NAB temperature: one numeric feature (${temperature.length - 2000} rows)`,
  await throughput(
    () =>
      driftWindow('d', { pipeline: 'b', reference: numericReference, features: numericOnly, window: countWindow(1e9) }),
    temperature.slice(2000),
  ),
  ' rec/s',
);
line(
  `NAB temperature: numeric + ADWIN per event`,
  await throughput(
    () =>
      driftWindow('d', {
        pipeline: 'b',
        reference: numericReference,
        features: numericOnly,
        window: countWindow(1e9),
        detectors: { value: { value: (x) => x, method: 'adwin' } },
      }),
    temperature.slice(2000),
  ),
  ' rec/s',
);
line(
  `NAB temperature: numeric + Page-Hinkley per event`,
  await throughput(
    () =>
      driftWindow('d', {
        pipeline: 'b',
        reference: numericReference,
        features: numericOnly,
        window: countWindow(1e9),
        detectors: { value: { value: (x) => x, method: 'page_hinkley' } },
      }),
    temperature.slice(2000),
  ),
  ' rec/s',
);

// --- drift-window tests at window close, per feature -----------------------------------------------------------------
console.log('\ndrift-window, tests at window close, per feature and window (ms)');
for (const refRows of [1000, 30_000]) {
  const refValues = Array.from({ length: refRows }, (_, i) => temperature[i % temperature.length]!);
  const ref = buildReferenceProfile(refValues, numericOnly).numeric.value!;
  for (const n of [1000, 10_000]) {
    const window = Float64Array.from(temperature.slice(temperature.length - n));
    const test = refRows <= DEFAULT_THRESHOLDS.smallReferenceMaxRows ? 'KS' : 'Wasserstein';
    line(
      `numeric (${test} + PSI), reference ${refRows}, window ${n}`,
      timeIt(() => numericTests('value', ref, window, DEFAULT_THRESHOLDS)),
      ' ms',
    );
  }
}
const windowTerms = new Map<string, number>();
const windowDf = new Map<string, number>();
for (const p of live.slice(0, 1000)) {
  for (const t of postingTextFeatures.keywords!(p)) {
    windowTerms.set(t, (windowTerms.get(t) ?? 0) + 1);
    windowDf.set(t, (windowDf.get(t) ?? 0) + 1);
  }
}
line(
  `categorical keywords (Jensen–Shannon, top 100 + other), window 1000`,
  timeIt(() => categoricalTest('keywords', reference.categorical.keywords!, windowTerms, DEFAULT_THRESHOLDS)),
  ' ms',
);
line(
  `keyword skew (${Object.keys(reference.keywords!.documentFrequency).length} reference terms), window 1000`,
  timeIt(() => keywordSkew(reference.keywords!, windowDf, 1000)),
  ' ms',
);

// --- pseudo-label ----------------------------------------------------------------------------------------------------
const WEEK = 7 * 86_400_000;
const predictions = Array.from({ length: quick ? 50_000 : 200_000 }, (_, i): { prediction: Prediction } => {
  const p1 = ((i * 7919) % 1000) / 1000;
  return {
    prediction: {
      record_id: `r${i}`,
      model_id: 'postings-a',
      model_version: 'v1',
      label: p1 > 0.5 ? 1 : 0,
      probabilities: [1 - p1, p1],
      confidence: Math.max(p1, 1 - p1),
      latency_ms: 0,
      predicted_at: 0,
    },
  };
});
console.log('\npseudo-label (records/s; weekly windows of ~10,000 predictions, ~20 % confident)');
line(
  `${predictions.length} predictions, no drift pause`,
  await throughput(
    () =>
      pseudoLabel<Prediction>('p', {
        pipeline: 'b',
        prediction: (p) => p,
        targetModelId: 'postings-b',
        classPrior: [0.9, 0.1],
        window: { type: 'tumbling', sizeMs: WEEK },
        pauseOnDrift: false,
        onAlarm: () => {},
      }),
    predictions,
    (i) => Math.floor(i / 10_000) * WEEK + i,
  ),
  ' rec/s',
);
