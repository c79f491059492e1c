import { join, relative } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.ts';
import { openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { newRunId } from '../streams/pipelines/run-metrics.ts';
import { runDemoBench } from './demo/bench-step.ts';
import { prepareDemoData } from './demo/data.ts';
import { ensureDemoModels } from './demo/models-step.ts';
import { Progress } from './demo/progress.ts';
import { type FilesReplayResult, replayFiles } from './demo/replay-files.ts';
import { demoReplays, frameShiftAt } from './demo/replays.ts';
import { buildDemoReport } from './demo/report-step.ts';
import { demoSummary } from './demo/summary.ts';

export interface DemoOptions {
  data?: string;
}

/** Prepare data, models, three replays, bench, report. */
const STEPS = 7;
/** Steps DRIFTLINE_DEMO_SKIP may name: a re-run that only checks what is reused leaves them out (the demo test). */
const SKIPPABLE: Record<string, string> = { bench: 'bench --quick', report: 'report build' };
/** Services the demo never uses: it runs on the embedded log and warehouse whatever the environment says. */
const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'SCHEMA_REGISTRY_URL'];
/** The demo's models live in its own home too: a manifest named for the user's runs is not the demo's. */
const OWN_HOME_VARIABLES = ['DRIFTLINE_MODELS_MANIFEST'];

/**
 * `npm start`: the whole journey on embedded defaults (no server, no network): data (a data directory, else
 * generated fixtures) → Model A and the frame CNN (trained unless already trained on the same data) → the postings,
 * frames and events pipelines replayed over the data's timeline, Model B learning along the way → `bench --quick`
 * → the report site → a summary. cli/demo/README.md describes each step.
 *
 * Everything it writes is in its own home, `<DRIFTLINE_HOME>/demo`: its models (trained on fixtures, maybe), log,
 * warehouse and report never meet a later `driftline run` on real data, which uses DRIFTLINE_HOME itself.
 */
export async function demoCommand(options: DemoOptions): Promise<void> {
  const ignored = [...SERVICE_VARIABLES, ...OWN_HOME_VARIABLES].filter((v) => process.env[v]);
  // Set in the environment, so what runs in this process (models, bench, report) sees the demo's home and embedded
  // defaults too.
  const userHome = loadSettings().home;
  const home = join(userHome, 'demo');
  for (const v of [...SERVICE_VARIABLES, ...OWN_HOME_VARIABLES]) delete process.env[v];
  process.env.DRIFTLINE_HOME = home;
  const settings: Settings = {
    ...loadSettings(),
    kafkaBrokers: undefined,
    clickhouseUrl: undefined,
    schemaRegistryUrl: undefined,
  };
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const skipped = skippedSteps(settings.demoSkip);
  if (ignored.length > 0)
    say(`driftline demo runs on the embedded log and warehouse in its own home only: ignoring ${ignored.join(', ')}`);
  say(
    `driftline demo: models, log, warehouse and report in ${shown(home)} (its own home: runs on your data ` +
      `use ${shown(userHome)})`,
  );
  const progress = new Progress(STEPS);
  try {
    progress.start('prepare data');
    const data = await prepareDemoData(options.data ?? settings.dataDir, settings.home);
    progress.done(
      data.generated
        ? `no data directory given (DRIFTLINE_DATA_DIR or --data): using small generated fixtures in ${data.dir}`
        : `real data from ${data.dir}`,
    );

    progress.start('models');
    const models = await ensureDemoModels(data.dir);
    progress.done(models.lines.join('; '));

    const stamp = newRunId();
    const replays: Partial<Record<string, FilesReplayResult>> = {};
    const plans = demoReplays(data);
    for (const plan of plans) {
      const name = plan.definition.name;
      progress.start(`replay ${name}`);
      say(`  ${name}: ${plan.about}`);
      const result = await replayFiles({
        ...plan,
        runId: `demo-${stamp}-${name}`,
        settings: { ...settings, dataDir: data.dir },
        onRecords: (n) => progress.records(n),
      });
      replays[name] = result;
      const perSecond = Math.round(result.records / Math.max(result.durationMs / 1000, 1e-3));
      progress.done(
        `${result.records.toLocaleString('en-US')} records ` +
          `(${perSecond.toLocaleString('en-US')}/s), ${result.deadLetters} dead letters, run ${result.runId}`,
      );
    }

    const bench = skipped.has('bench')
      ? skipStep(progress, SKIPPABLE.bench!)
      : await tolerantStep(
          progress,
          'bench --quick',
          (log) => runDemoBench(settings, log),
          (b) => `run ${b.runId}`,
        );
    const report = skipped.has('report')
      ? skipStep(progress, SKIPPABLE.report!)
      : await tolerantStep(
          progress,
          'report build',
          async (log) => ({ site: await buildDemoReport(settings, log) }),
          (r) => `site in ${r.site}`,
        );
    const failed = 'failed' in bench || 'failed' in report;

    progress.close();
    const warehouse = await openWarehouse(settings);
    try {
      const outcome = {
        data,
        models,
        replays: replays as Record<'postings' | 'frames' | 'events', FilesReplayResult>,
        frameShiftAt: frameShiftAt(data),
        bench,
        report,
        timings: progress.timings,
        cli: cliPrefix(home),
      };
      console.log(await demoSummary(warehouse, outcome));
    } finally {
      await warehouse.close();
    }
    if (failed) process.exitCode = 1;
  } finally {
    progress.close();
  }
}

/**
 * A step whose failure does not stop the demo (the summary is still worth printing; the demo then exits 1). Its log
 * stays quiet: the latest line is shown as progress, and the last 30 lines are printed only if it fails.
 */
async function tolerantStep<T>(
  progress: Progress,
  name: string,
  run: (log: (line: string) => void) => Promise<T>,
  describe: (result: T) => string,
): Promise<T | { failed: string }> {
  const tail: string[] = [];
  const log = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    if (line.trim() !== '') progress.note(line.trim());
  };
  progress.start(name);
  try {
    const result = await run(log);
    progress.done(describe(result));
    return result;
  } catch (error) {
    process.stderr.write(tail.map((l) => `  ${l}\n`).join(''));
    const failed = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    progress.done(`failed: ${failed}`);
    return { failed };
  }
}

/** DRIFTLINE_DEMO_SKIP (comma-separated step names) as a set; an unknown name is an error that lists the known ones. */
function skippedSteps(names: string[]): Set<string> {
  const unknown = names.filter((s) => !(s in SKIPPABLE));
  if (unknown.length > 0) {
    throw new Error(
      `DRIFTLINE_DEMO_SKIP: unknown step ${unknown.join(', ')}; steps that can be ` +
        `skipped: ${Object.keys(SKIPPABLE).join(', ')}`,
    );
  }
  return new Set(names);
}

/** A step left out: said in its progress line and in the summary. */
function skipStep(progress: Progress, name: string): { skipped: string } {
  progress.start(name);
  progress.done('skipped (DRIFTLINE_DEMO_SKIP)');
  return { skipped: 'skipped (DRIFTLINE_DEMO_SKIP)' };
}

/** How to run driftline on this demo's state: in the demo's home. */
function cliPrefix(home: string): string {
  return `DRIFTLINE_HOME=${shown(home)} npx driftline`;
}

/** A path as short as it can be said: relative to the working directory when inside it. */
function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside !== '' && !inside.startsWith('..') && !inside.startsWith('/') ? inside : path;
}
