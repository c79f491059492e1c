/**
 * uncertainty-sample throughput: records/s through the stage (called directly, no transport) in batches of 1,000,
 * medians with min/max over repeated runs, for margin and entropy, without and with a text dedup key.
 *
 * Input: Model A (trained here on the Glassdoor 2020 files, ~10 s) predicting every HN 2026 job of every collection
 * run, replayed 10 times with event times shifted past the previous pass and ids made unique per pass (the same
 * texts coming back, as re-posts do): 23,010 predictions, about half of them in the default band, weekly windows,
 * budget 30.
 *   npx tsx bench/uncertainty-sample.bench.ts [--quick]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { featurizeBatch } from '../models/postings/features.ts';
import { DEFAULT_POSTINGS_CONFIG, predictProbabilities, trainPostingsModel } from '../models/postings/train.ts';
import { type JobPosting, normalizePosting } from '../operators/normalize/index.ts';
import { postingKey } from '../operators/uncertainty/near-duplicate.ts';
import { type LabelQueueEntry, uncertaintySample } from '../operators/uncertainty/uncertainty-sample.ts';
import type { UncertaintyMethod } from '../operators/uncertainty/uncertainty-scores.ts';
import { tumbling } from '../streams/kernel/operators/window/window-spec.ts';
import type { Prediction } from '../schemas/prediction.ts';
import type { StreamRecord } from '../streams/kernel/record.ts';
import type { StageOutput } from '../streams/kernel/stage.ts';
import { dataDir, dataFile } from '../test/data-dir.ts';
import { formatSpread, spread } from './stats.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 7;
const BATCH = 1000;
const PASSES = 10;
const WEEK = 7 * 86_400_000;

interface Item {
  input: JobPosting;
  prediction: Prediction;
}

async function predictions(): Promise<{ items: Item[]; times: number[] }> {
  const dir = dataFile('postings', 'hn-hiring-2026');
  const jobs: JobPosting[] = [];
  for (const run of readdirSync(dir).sort()) {
    const file = JSON.parse(readFileSync(`${dir}/${run}/raw.json`, 'utf8')) as {
      date: string;
      fetched_at: string;
      jobs: unknown[];
    };
    for (const job of file.jobs)
      jobs.push(
        normalizePosting({
          raw: Buffer.from(JSON.stringify(job)),
          source: 'hn-2026',
          value: { run: file.date, fetched_at: file.fetched_at, job },
        }),
      );
  }
  jobs.sort((a, b) => a.posted_at! - b.posted_at!);
  const t0 = performance.now();
  const trained = await trainPostingsModel(DEFAULT_POSTINGS_CONFIG, dataDir());
  const probs = predictProbabilities(trained.model, featurizeBatch(jobs));
  trained.model.dispose();
  console.log(
    `Model A trained and run on ${jobs.length} HN 2026 jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const first = jobs[0]!.posted_at!;
  const span = Math.ceil((jobs.at(-1)!.posted_at! - first + 1) / WEEK) * WEEK;
  const items: Item[] = [];
  const times: number[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    jobs.forEach((input, i) => {
      const probabilities = [probs[2 * i]!, probs[2 * i + 1]!];
      const label = probabilities[1]! > probabilities[0]! ? 1 : 0;
      const prediction: Prediction = {
        record_id: `${input.id}#${pass}`,
        model_id: 'postings-a',
        model_version: 'v1',
        label,
        probabilities,
        confidence: probabilities[label]!,
        latency_ms: 0,
        predicted_at: 0,
      };
      items.push({ input, prediction });
      times.push(input.posted_at! + pass * span);
    });
  }
  return { items, times };
}

const sink: StageOutput<LabelQueueEntry> = { emit() {}, emitSide() {}, deadLetter() {} };

async function throughput(
  items: Item[],
  times: number[],
  method: UncertaintyMethod,
  dedup: boolean,
): Promise<{ rates: number[]; queued: number }> {
  const records: StreamRecord<Item>[] = items.map((value, i) => ({
    key: value.prediction.record_id,
    value,
    eventTime: times[i]!,
    headers: {},
    position: { topic: 'bench', partition: 0, offset: i },
  }));
  const rates: number[] = [];
  let queued = 0;
  for (let run = 0; run <= RUNS; run++) {
    queued = 0;
    const out: StageOutput<LabelQueueEntry> = { ...sink, emit: (b) => (queued += b.records.length) };
    const stage = uncertaintySample<Item>('uncertainty', {
      pipeline: 'bench',
      prediction: (v) => v.prediction,
      method,
      window: tumbling(WEEK),
      budget: 30,
      dedupKey: dedup ? (v) => postingKey(v.input) : undefined,
    });
    const t0 = performance.now();
    for (let i = 0; i < records.length; i += BATCH)
      await stage.onBatch({ records: records.slice(i, i + BATCH), tokens: [] }, out);
    await stage.onEnd!(out);
    if (run > 0) rates.push(records.length / ((performance.now() - t0) / 1000)); // run 0 warms up
  }
  return { rates, queued };
}

const { items, times } = await predictions();
console.log(
  `uncertainty-sample, ${items.length.toLocaleString('en-US')} predictions, batches of ${BATCH}, weekly windows, ` +
    `budget 30, band [0.4, 0.7]:`,
);
for (const method of ['margin', 'entropy'] as const) {
  for (const dedup of [false, true]) {
    const { rates, queued } = await throughput(items, times, method, dedup);
    console.log(
      `  ${method.padEnd(7)} ${dedup ? 'text dedup key' : 'record id only'}  ` +
        ` ${formatSpread(spread(rates), ' rec/s')}   (${queued} queued)`,
    );
  }
}
