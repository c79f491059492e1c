import type { Warehouse } from '../../connectors/warehouse/warehouse.ts';
import type { DemoBench } from './bench-step.ts';
import type { DemoData } from './data.ts';
import { modelBStory } from './model-b-story.ts';
import type { DemoModels } from './models-step.ts';
import type { StepTiming } from './progress.ts';
import type { FilesReplayResult } from './replay-files.ts';

export interface DemoOutcome {
  data: DemoData;
  models: DemoModels;
  /** By pipeline name. */
  replays: Record<'postings' | 'frames' | 'events', FilesReplayResult>;
  /** The lighting fault's first frame. */
  frameShiftAt: number;
  bench: DemoBench | { failed: string } | { skipped: string };
  report: { site: string } | { failed: string } | { skipped: string };
  timings: StepTiming[];
  /** How to run `driftline` against this demo's state (e.g. `DRIFTLINE_HOME=/tmp/x npx driftline`). */
  cli: string;
}

const n = (v: unknown) => Number(v ?? 0);
const count = (v: unknown) => n(v).toLocaleString('en-US');
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
const ratio = (v: unknown) => (v === null || v === undefined ? '—' : n(v).toFixed(3));
const duration = (ms: number) =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

/** The closing summary: what went through, how the models did, what drifted, where to look next. */
export async function demoSummary(warehouse: Warehouse, o: DemoOutcome): Promise<string> {
  const q = (sql: string) => warehouse.query(sql);
  const runs = o.replays;
  const [postings] = await q('SELECT count(*) AS n FROM postings');
  const [frames] = await q('SELECT count(*) AS n FROM frames');
  const [events] = await q('SELECT count(*) AS n FROM events');
  const predictions = await q('SELECT model_id, count(*) AS n FROM predictions GROUP BY model_id ORDER BY model_id');
  const [truth] = await q(
    `SELECT sum(labeled) AS n FROM model_comparison WHERE run_id = '${runs.postings.runId}' AND labeled > 0`,
  );
  const story = await modelBStory(warehouse, runs.postings.runId);
  const training = await q(
    `SELECT candidate_version, promoted, candidate_accuracy, model_a_accuracy, holdout_size FROM training_runs ` +
      `WHERE run_id = '${runs.postings.runId}' ORDER BY finished_at`,
  );
  const alerts = await q(
    `SELECT pipeline, count(*) AS n, min(window_start) AS first FROM drift_alerts WHERE run_id IN ` +
      `('${runs.postings.runId}', '${runs.frames.runId}', '${runs.events.runId}') GROUP BY pipeline`,
  );
  const scores = await q(
    `SELECT series, alerts, precision, recall FROM anomaly_scores WHERE run_id = '${runs.events.runId}' ORDER BY ` +
      `series`,
  );

  const alertsOf = (pipeline: string) => n(alerts.find((a) => a.pipeline === pipeline)?.n);
  const promoted = training.filter((t) => n(t.promoted) === 1);
  const lastPromoted = promoted.at(-1);
  const lastPromotion = lastPromoted
    ? ` (last: postings-b@${lastPromoted.candidate_version}, holdout ${ratio(lastPromoted.candidate_accuracy)} ` +
      `vs A ${ratio(lastPromoted.model_a_accuracy)} on ${count(lastPromoted.holdout_size)} labels)`
    : '';
  const labelled = n(truth?.n);
  const dead = (p: keyof typeof runs) => `${count(runs[p].deadLetters)} dead letters`;
  const total = o.timings.reduce((s, t) => s + t.ms, 0);

  const lines = [
    '',
    `driftline demo: done in ${duration(total)}, ` +
      `on ${o.data.generated ? `generated fixtures (${o.data.dir})` : `the data in ${o.data.dir}`}`,
    '',
    `  Records        postings ${count(postings?.n)} (${dead('postings')}) · frames ${count(frames?.n)} ` +
      `(${dead('frames')}) · events ${count(events?.n)} (${dead('events')})`,
    `  Predictions    ${predictions.map((p) => `${p.model_id} ${count(p.n)}`).join(' · ') || 'none'}`,
    `  Model A        held-out accuracy ${ratio(o.models.postingsA.metrics.accuracy)} ` +
      `(${o.models.postingsA.id}@${o.models.postingsA.version}, Glassdoor 2020 postings)`,
    labelled === 0
      ? '  A vs B         no labels arrived (no classified.json in the data)'
      : story === null
        ? `  A vs B         B was not promoted during the replay: both scored ${count(labelled)} labelled postings ` +
          `with B's first version`
        : `  A vs B         Model B ${ratio(story.accuracyB)} vs Model A ${ratio(story.accuracyA)} ` +
          `(${signed(story.accuracyB - story.accuracyA)}) on the ${count(story.records)} labelled postings scored ` +
          `after B's first promotion` +
          ` (postings-b@${story.firstVersion}, in force ` +
          `from ${new Date(story.inForceFrom).toISOString().slice(0, 10)}; trained only on labels from before each ` +
          `posting)`,
    `  Model B        ${training.length} fine-tunes, ${promoted.length} promoted${lastPromotion}`,
    `  Drift alerts   postings ${alertsOf('postings')} · frames ${alertsOf('frames')} (lighting fault from ` +
      `frame ${o.frameShiftAt}) · events ${alertsOf('events')}`,
    ...scores.map(
      (s) =>
        `                 ${s.series}: ${count(s.alerts)} alerts, precision ${ratio(s.precision)}, ` +
        `recall ${ratio(s.recall)} against the labelled anomaly windows`,
    ),
    `  Frame model    ${o.models.frames.id}@${o.models.frames.version}, held-out ` +
      `accuracy ${ratio(o.models.frames.metrics.accuracy)}; fp32 and int8 on every frame`,
    ...('skipped' in o.bench
      ? [`  Bench          ${o.bench.skipped}`]
      : 'failed' in o.bench
        ? [`  Bench          failed: ${o.bench.failed}`]
        : [
            `  Bench          ${o.bench.runId} (quick), SingleStream on ONNX Runtime; all rows in ${o.bench.jsonPath}`,
            ...o.bench.highlights.map((h) => `                 ${h}`),
          ]),
    'site' in o.report
      ? `  Report         ${o.report.site} — preview: ${o.cli} report preview`
      : `  Report         ${'skipped' in o.report ? o.report.skipped : `failed: ${o.report.failed}`}`,
    `  Query          ${o.cli} sql "SELECT pipeline, kind, count(*) FROM drift_alerts GROUP BY 1, 2"`,
    `  Models         ${o.cli} models list`,
    '',
    `  Steps          ${o.timings.map((t) => `${t.name} ${duration(t.ms)}`).join(' · ')}`,
  ];
  return lines.join('\n');
}
