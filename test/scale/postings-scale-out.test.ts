/**
 * `postings` with Models A and B (training off) scaled out on Kafka + ClickHouse: a 6-partition topic read by three
 * `driftline run postings --scale-out` workers in one group gives every table of a 1-partition, 1-process run
 * (run ids and wall-clock columns aside); so does a run in which one worker is SIGKILLed mid-run and not restarted.
 * Input: the 2026 HN postings with their ground-truth labels (1,720 postings).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk, exitOf, sleep } from '../e2e/cli.ts';
import { testKafka } from '../kafka/kafka-test-helpers.ts';
import { warehouseSnapshot } from '../replay/replay-helpers.ts';
import { registerTrainedOnce } from '../shared-models.ts';
import {
  allExitOk,
  clickhouseSnapshot,
  configFile,
  differences,
  dropDatabase,
  type RunPlace,
  runPlace,
  startWorkers,
} from './scale-helpers.ts';

const INPUT = dataFile('postings', 'hn-hiring-2026');
const dir = mkdtempSync(join(tmpdir(), 'driftline-scale-postings-'));
const base = {
  DRIFTLINE_HOME: join(dir, 'home'),
  DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
  DRIFTLINE_DATA_DIR: dataDir(),
};
const config = ['--config', configFile('postings', { train: false })];
const kafka = testKafka();
const places: RunPlace[] = [];
let single: Record<string, string[]>;

beforeAll(async () => {
  writeFileSync(base.DRIFTLINE_MODELS_MANIFEST, '{"models":[]}');
  await registerTrainedOnce('postings', dataDir(), {
    manifestPath: base.DRIFTLINE_MODELS_MANIFEST,
    home: base.DRIFTLINE_HOME,
  });
  // One partition, one process, no repartition: the reference. It also registers Model B (a copy of A) before the
  // workers start, so they do not race to register it.
  const one = place('scale1');
  await kafka.ensureTopic(`${one.prefix}postings`, 1);
  await kafka.ensureTopic(`${one.prefix}labels`, 1);
  await driftlineOk(['produce', 'postings', INPUT], one.env);
  const started = Date.now();
  await driftlineOk(['run', 'postings', '--until-idle', ...config], one.env);
  process.stderr.write(`1 partition, 1 process: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  single = await clickhouseSnapshot(one);
}, 600_000);

afterAll(async () => {
  await Promise.all(places.map(dropDatabase));
  await kafka.close();
});

function place(name: string): RunPlace {
  const p = runPlace(name, 'postings', base);
  places.push(p);
  return p;
}

describe('postings scaled out over 6 partitions and 3 worker processes', () => {
  it('the reference run has rows in every result table', () => {
    for (const table of ['postings', 'predictions', 'labels', 'label_queue', 'drift_metrics', 'model_comparison'])
      expect(single[table]!.length, table).toBeGreaterThan(0);
  });

  it('gives every table of the 1-partition, 1-process run', async () => {
    const six = place('scale6');
    await driftlineOk(['produce', 'postings', INPUT], six.env);
    const started = Date.now();
    const workers = startWorkers(3, 'postings', config, six.env);
    await allExitOk(workers);
    process.stderr.write(`6 partitions, 3 workers: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const holders = workers.filter((w) => /runs the stream-wide stages/.test(w.output()));
    expect(holders.length).toBeGreaterThanOrEqual(1);
    expect(differences(await clickhouseSnapshot(six), single)).toEqual([]);
  }, 180_000);

  it('the same with one worker SIGKILLed mid-run and not restarted', async () => {
    const killed = place('scale6k');
    await driftlineOk(['produce', 'postings', INPUT], killed.env);
    const workers = startWorkers(3, 'postings', config, killed.env);
    // Kill a worker holding input partitions but not the stream-wide stages, once it has written predictions.
    let victim: (typeof workers)[number] | undefined;
    const deadline = Date.now() + 120_000;
    while (!victim && Date.now() < deadline) {
      await sleep(100);
      const holder = workers.find((w) => /runs the stream-wide stages/.test(w.output()));
      if (holder) victim = workers.find((w) => w !== holder && /postings: Model A/.test(w.output()));
    }
    expect(victim).toBeDefined();
    victim!.kill('SIGKILL');
    await exitOf(victim!);
    await allExitOk(workers.filter((w) => w !== victim));
    expect(differences(await clickhouseSnapshot(killed), single)).toEqual([]);
  }, 240_000);

  it("on the embedded log (one process, no Kafka): the scaled-out form gives the one-part form's tables", async () => {
    const homes = ['one', 'scaled'].map((h) => join(dir, `embedded-${h}`));
    for (const [i, home] of homes.entries()) {
      cpSync(base.DRIFTLINE_HOME, home, { recursive: true });
      cpSync(base.DRIFTLINE_MODELS_MANIFEST, join(home, 'models.json'));
      const env = { ...base, DRIFTLINE_HOME: home, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' };
      await driftlineOk(['produce', 'postings', INPUT], env);
      await driftlineOk(['run', 'postings', '--until-idle', ...config, ...(i === 1 ? ['--scale-out'] : [])], env);
    }
    const [one, scaled] = await Promise.all(homes.map((h) => warehouseSnapshot(h, 'live-driftline-postings')));
    delete one!.pipeline_metrics;
    delete scaled!.pipeline_metrics;
    expect(one!.label_queue!.length).toBeGreaterThan(0);
    expect(differences(scaled!, one!)).toEqual([]);
  }, 180_000);
});
