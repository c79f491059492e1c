/**
 * A warehouse with something on every report page, made with the real CLI on real data: Model A trained on Glassdoor
 * 2020 (the test run's shared training, test/shared-models.ts), the 2026 HN postings (their `classified.json` as late
 * ground truth) plus one posting carrying XSS payloads, and the NAB `nyc_taxi` series.
 *
 * `services: 'embedded'` uses the embedded log and DuckDB; `'kafka-clickhouse'` Kafka and ClickHouse (unique topic
 * prefix and database). Input is produced to each pipeline's topic and the pipeline run until idle; with
 * `postingsVia: 'files'` the postings pipeline reads its files directly (`run --input`) instead.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir, dataFile } from '../data-dir.ts';
import { driftlineOk } from '../e2e/cli.ts';
import { registerTrainedOnce } from '../shared-models.ts';

/** Set by the payloads if a browser ever runs them; the browser test asserts it stays unset. */
export const XSS_FLAG = '__driftlineXss';
/** The title the XSS posting gets after normalization (HN titles: first line up to the first '|'). */
export const XSS_TITLE = `Evil Corp <script>window.${XSS_FLAG}=1</script><img src=x onerror="window.${XSS_FLAG}=2">`;
const XSS_JOB_ID = 99_000_001;

/** A 2026 HN collection run with one job whose text carries the payloads as the scraped HTML escapes them. */
function writeXssRun(dir: string): void {
  const escapeHtml = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const text =
    `${escapeHtml(XSS_TITLE)} | Data Scientist | Remote<p>` +
    `We build models. ${escapeHtml(`<script>window.${XSS_FLAG}=3</script>`)} ` +
    `Apply: ${escapeHtml(`<img src=x onerror="window.${XSS_FLAG}=4">`)}` +
    '<p>Python, SQL, machine learning, statistics.';
  const time = Date.UTC(2026, 3, 20) / 1000; // the newest posting of the input, so "latest postings" lists it
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'raw.json'),
    JSON.stringify({
      date: '2026-04-20',
      fetched_at: '2026-04-20T00:00:00Z',
      jobs: [{ id: XSS_JOB_ID, by: 'mallory', time, text }],
    }),
  );
  writeFileSync(join(dir, 'classified.json'), JSON.stringify({ jobs: [{ id: XSS_JOB_ID, role: 'Data Scientist' }] }));
}

export interface PreparedWarehouse {
  /** Environment for `driftline` commands (and `loadSettings`) that reads this warehouse. */
  env: Record<string, string>;
  home: string;
  /** Model A as trained, before any run registered Model B versions: what `modelsFrom` copies. */
  trained: { manifest: string; models: string };
  /** Whether `driftline bench --quick` ran (and bench_runs / bench_results hold its rows). */
  bench: boolean;
  /** What was run, for the test's messages. */
  inputs: { postings: string; events: string };
}

export interface PrepareOptions {
  name: string;
  services: 'embedded' | 'kafka-clickhouse';
  /** Reuse the trained Model A of an earlier preparation (copies its manifest and artifacts) instead of training. */
  modelsFrom?: PreparedWarehouse;
  /** Options for the postings pipeline (`--config`), e.g. `{ train: false }` for runs that must be repeatable. */
  postingsOptions?: Record<string, unknown>;
  /**
   * How postings reach the pipeline (default 'topic': produce, then run --until-idle); 'files' runs --input;
   * 'replay' replays the files in event time, where Model B trains in event time too (promotions have an event time
   * they are in force from, and the postings after it are scored by the promoted version).
   */
  postingsVia?: 'topic' | 'files' | 'replay';
  /** Run `driftline bench --quick` too. */
  bench?: boolean;
  /** Where the services live, for 'kafka-clickhouse' (default: the variables the test global setup exported). */
  kafkaBrokers?: string;
  clickhouseUrl?: string;
}

export async function prepareWarehouse(options: PrepareOptions): Promise<PreparedWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), `driftline-report-${options.name}-`));
  const home = join(dir, 'home');
  const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const unique = `${options.name.replace(/\W/g, '_')}_${suffix}`;
  const env: Record<string, string> = {
    DRIFTLINE_HOME: home,
    DRIFTLINE_MODELS_MANIFEST: join(dir, 'models.json'),
    DRIFTLINE_DATA_DIR: dataDir(),
    KAFKA_BROKERS: '',
    CLICKHOUSE_URL: '',
    DRIFTLINE_TOPIC_PREFIX: `${unique}.`,
    CLICKHOUSE_DATABASE: `report_${unique}`,
  };
  if (options.services === 'kafka-clickhouse') {
    env.KAFKA_BROKERS = options.kafkaBrokers ?? process.env.KAFKA_BROKERS ?? '';
    env.CLICKHOUSE_URL = options.clickhouseUrl ?? process.env.CLICKHOUSE_URL ?? '';
    if (!env.KAFKA_BROKERS || !env.CLICKHOUSE_URL)
      throw new Error('prepareWarehouse: kafka-clickhouse needs KAFKA_BROKERS and CLICKHOUSE_URL');
  }

  if (options.modelsFrom) {
    cpSync(options.modelsFrom.trained.manifest, env.DRIFTLINE_MODELS_MANIFEST!);
    cpSync(options.modelsFrom.trained.models, join(home, 'models'), { recursive: true });
  } else {
    // Registered as `driftline models train postings` does, from the test run's shared training (trained once per run).
    writeFileSync(env.DRIFTLINE_MODELS_MANIFEST!, '{"models":[]}');
    await registerTrainedOnce('postings', dataDir(), { manifestPath: env.DRIFTLINE_MODELS_MANIFEST!, home });
  }
  const trained = { manifest: join(dir, 'trained', 'models.json'), models: join(dir, 'trained', 'models') };
  cpSync(env.DRIFTLINE_MODELS_MANIFEST!, trained.manifest);
  cpSync(join(home, 'models'), trained.models, { recursive: true });

  // The 2026 runs and the XSS run side by side in one input folder (symlinks: the data stays where it is).
  const postings = join(dir, 'postings-input');
  mkdirSync(postings);
  const hn2026 = dataFile('postings', 'hn-hiring-2026');
  for (const run of ['2026-01-01', '2026-02-01', '2026-03-15']) {
    if (existsSync(join(hn2026, run))) symlinkSync(join(hn2026, run), join(postings, run));
  }
  writeXssRun(join(postings, '2026-04-20'));
  const events = dataFile('events', 'nab', 'data', 'realKnownCause', 'nyc_taxi.csv');

  const configArgs: string[] = [];
  if (options.postingsOptions) {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ pipelines: { postings: options.postingsOptions } }));
    configArgs.push('--config', config);
  }
  if (options.postingsVia === 'files') {
    await driftlineOk(['run', 'postings', '--input', postings, ...configArgs], env);
  } else if (options.postingsVia === 'replay') {
    await driftlineOk(['replay', 'postings', '--input', postings, ...configArgs], env);
  } else {
    await driftlineOk(['produce', 'postings', postings], env);
    await driftlineOk(['run', 'postings', '--until-idle', ...configArgs], env);
  }
  await driftlineOk(['produce', 'events', events], env);
  await driftlineOk(['run', 'events', '--until-idle'], env);
  let bench = false;
  if (options.bench) {
    const help = await driftlineOk(['bench', '--help'], env);
    if (help.includes('--quick')) {
      await driftlineOk(['bench', '--quick'], env);
      bench = true;
    }
  }
  return { env, home, trained, bench, inputs: { postings, events } };
}
