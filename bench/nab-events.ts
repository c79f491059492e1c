/**
 * The events anomaly score on the Numenta Anomaly Benchmark, scored by NAB's own method (streams/pipelines/nab-*.ts)
 * in one run beside the baselines on the same files: NAB's Windowed Gaussian (reimplemented; its raw scores match
 * NAB's published ones) and "an alert at every window close" (one every 288 records, the events drift window,
 * ignoring the data). Also driftline's alerts as the pipeline raises them (score ≥ its threshold, 1 at each alert)
 * and the ablation: the score with each signal switched off. Used by `driftline bench events` and
 * `npx tsx bench/nab-events.bench.ts`.
 */
import { cpus, loadavg } from 'node:os';
import { DEFAULT_ALERT_THRESHOLD } from '../operators/anomaly/anomaly-rows.ts';
import {
  DETECTOR_DEFAULTS,
  type DetectorOptions,
  SeriesAnomalyDetector,
} from '../operators/anomaly/series-detector.ts';
import { windowedGaussianScores } from '../operators/anomaly/windowed-gaussian.ts';
import {
  type NabFile,
  PROFILES,
  type ProfileName,
  readNabCorpus,
  readNabProfiles,
} from '../streams/pipelines/nab-corpus.ts';
import { windowIndices } from '../streams/pipelines/nab-sweep.ts';
import { normalise, type ScoredFile, scoreCorpus, scoredWindows } from '../streams/pipelines/nab-threshold.ts';
import { formatSpread, type Spread, spread } from './stats.ts';

type Detector = (values: number[]) => number[];

const driftline =
  (over: Partial<DetectorOptions> = {}): Detector =>
  (values) => {
    const d = new SeriesAnomalyDetector({ ...DETECTOR_DEFAULTS, ...over });
    return values.map((v) => d.score(v).score);
  };

/** The detectors of one run: name → scores of a series. The first is driftline's score. */
export const DETECTORS: [string, Detector][] = [
  ['driftline anomaly score', driftline()],
  [
    `driftline alerts (score ≥ ${DEFAULT_ALERT_THRESHOLD}, 1 at each alert)`,
    (v) => driftline()(v).map((s) => Number(s >= DEFAULT_ALERT_THRESHOLD)),
  ],
  ['Windowed Gaussian (NAB baseline, reimplemented)', windowedGaussianScores],
  ['an alert at every window close (288 records)', (v) => v.map((_, i) => ((i + 1) % 288 === 0 ? 1 : 0))],
];

/** The ablation: driftline's score with one signal off (or only the robust z). */
export const ABLATION: [string, Detector][] = [
  ['− anomaly likelihood (raw robust z instead)', driftline({ likelihood: false })],
  ['− differences (robust z of the step)', driftline({ differences: false })],
  ['− novelty (new extremes)', driftline({ novelty: false })],
  ['− change (ADWIN)', driftline({ change: false })],
  ['− quiet period after an alert', driftline({ quietRecords: 0 })],
  ['robust z + likelihood only', driftline({ novelty: false, change: false })],
];

/** NAB's published scoreboard (all 58 files, incl. realTweets which is not here), for context only. */
export const SCOREBOARD: [string, number, number, number][] = [
  ['Numenta HTM (NAB scoreboard, 58 files)', 70.5, 62.6, 75.2],
  ['Windowed Gaussian (NAB scoreboard, 58 files)', 39.6, 20.9, 47.4],
  ['Random (NAB scoreboard, 58 files)', 11.0, 1.2, 19.5],
];

export interface DetectorResult {
  name: string;
  profiles: Record<ProfileName, { normalised: number | null; threshold: number; raw: number }>;
  /** Category → standard-profile normalised score at the corpus threshold (raw score where it has no windows). */
  categories: Record<string, { normalised: number | null; raw: number }>;
  /** Records scored per second, over the repeats. */
  rate: Spread;
}

function evaluate(name: string, detect: Detector, corpus: NabFile[], repeats: number, nabDir: string): DetectorResult {
  const profiles = readNabProfiles(nabDir);
  const records = corpus.reduce((n, f) => n + f.values.length, 0);
  const rates: number[] = [];
  let files: ScoredFile[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    files = corpus.map((f) => ({
      path: f.path,
      scores: detect(f.values),
      windows: windowIndices(f.timestamps, f.windows),
    }));
    rates.push(records / ((performance.now() - started) / 1000));
  }
  const result = {} as DetectorResult['profiles'];
  for (const p of PROFILES) {
    const s = scoreCorpus(files, profiles[p]);
    result[p] = { normalised: s.normalised, threshold: s.threshold, raw: s.raw };
  }
  const standard = scoreCorpus(files, profiles.standard, result.standard.threshold);
  const categories: DetectorResult['categories'] = {};
  for (const category of [...new Set(corpus.map((f) => f.category))]) {
    const inCategory = standard.files.filter((f) => f.path.startsWith(`${category}/`));
    const raw = inCategory.reduce((s, f) => s + f.score, 0);
    const ofCategory = files.filter((f) => f.path.startsWith(`${category}/`));
    const windows = ofCategory.reduce((n, f) => n + scoredWindows(f).length, 0);
    categories[category] = { normalised: normalise(raw, windows, profiles.standard), raw };
  }
  return { name, profiles: result, categories, rate: spread(rates) };
}

export interface EventsBenchResult {
  files: number;
  records: number;
  windows: number;
  categories: string[];
  detectors: DetectorResult[];
  ablation: DetectorResult[];
  load: { before: number[]; after: number[]; cores: number };
}

export function runEventsBench(
  nabDir: string,
  options: { repeats?: number; log?: (line: string) => void } = {},
): EventsBenchResult {
  const before = loadavg();
  const corpus = readNabCorpus(nabDir);
  if (corpus.length === 0) throw new Error(`no labelled NAB files under ${nabDir}/data`);
  const repeats = options.repeats ?? 3;
  const run = (list: [string, Detector][]) =>
    list.map(([name, detect]) => {
      options.log?.(`scoring ${corpus.length} files with ${name} (${repeats}×)`);
      return evaluate(name, detect, corpus, repeats, nabDir);
    });
  const detectors = run(DETECTORS);
  const ablation = run(ABLATION);
  return {
    files: corpus.length,
    records: corpus.reduce((n, f) => n + f.values.length, 0),
    windows: corpus.reduce((n, f) => n + f.windows.length, 0),
    categories: [...new Set(corpus.map((f) => f.category))],
    detectors,
    ablation,
    load: { before, after: loadavg(), cores: cpus().length },
  };
}

const score = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));

/** The table, then per category, the ablation and the machine's load, as Markdown. */
export function formatEventsBench(r: EventsBenchResult): string {
  const wg = r.detectors.find((d) => d.name.startsWith('Windowed Gaussian'))!;
  const ratio = (d: DetectorResult) =>
    (d.profiles.standard.normalised ?? 0) / (wg.profiles.standard.normalised ?? Number.NaN);
  const cell = (d: DetectorResult, p: ProfileName) =>
    `${score(d.profiles[p].normalised)} (≥ ${d.profiles[p].threshold.toFixed(3)})`;
  const row = (d: DetectorResult) =>
    `| ${d.name} | ${PROFILES.map((p) => cell(d, p)).join(' | ')} | ${ratio(d).toFixed(2)}× | ` +
    `${formatSpread(d.rate)} |`;
  const category = (d: DetectorResult, c: string) => {
    const { normalised, raw } = d.categories[c]!;
    return normalised === null ? `raw ${raw.toFixed(2)}` : score(normalised);
  };
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    `NAB, ${r.files} labelled files (${r.records.toLocaleString('en-US')} records, ${r.windows} windows), ` +
      "scored by NAB's method in this run:",
    '',
    '| detector | standard | reward low FP | reward low FN | standard vs Windowed Gaussian | records/s |',
    '|---|---|---|---|---|---|',
    ...r.detectors.map(row),
    ...SCOREBOARD.map(([name, s, fp, fn]) => `| ${name} | ${s} | ${fp} | ${fn} | | |`),
    '',
    'Standard profile per category, at the corpus threshold (raw score where a category has no labelled window):',
    '',
    `| detector | ${r.categories.join(' | ')} |`,
    `|---|${r.categories.map(() => '---').join('|')}|`,
    ...r.detectors.map((d) => `| ${d.name} | ${r.categories.map((c) => category(d, c)).join(' | ')} |`),
    '',
    'Ablation (driftline anomaly score, one signal changed):',
    '',
    '| variant | standard | reward low FP | reward low FN |',
    '|---|---|---|---|',
    `| all signals | ${PROFILES.map((p) => score(r.detectors[0]!.profiles[p].normalised)).join(' | ')} |`,
    ...r.ablation.map((d) => `| ${d.name} | ${PROFILES.map((p) => score(d.profiles[p].normalised)).join(' | ')} |`),
    '',
    `load average ${load(r.load.before)} before, ${load(r.load.after)} after, on ${r.load.cores} cores; ` +
      'records/s is the median of the repeats (min–max).',
  ];
  return lines.join('\n');
}
