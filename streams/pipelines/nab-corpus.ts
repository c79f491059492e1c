/**
 * The NAB corpus as the benchmark reads it: every `data/<category>/<file>.csv` (`timestamp,value`), its labelled
 * windows from `labels/combined_windows.json` (keyed by `<category>/<file>.csv`) and the scoring profiles
 * (`profiles.json`). Files without an entry in the labels are left out (NAB scores only labelled files).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventTime } from '../../connectors/files/event-files.ts';
import type { LabelledWindow } from './nab-scoring.ts';
import type { CostMatrix } from './nab-sweep.ts';

export interface NabFile {
  /** `realKnownCause/nyc_taxi.csv`. */
  path: string;
  category: string;
  /** The series key the events pipeline gives it: the file name without folder or extension. */
  series: string;
  timestamps: number[];
  values: number[];
  windows: LabelledWindow[];
}

export const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** `profiles.json` → profile name → weights. */
export function readNabProfiles(nabDir: string): Record<ProfileName, CostMatrix> {
  const file = join(nabDir, 'profiles.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { CostMatrix?: CostMatrix }>;
  const out = {} as Record<ProfileName, CostMatrix>;
  for (const name of PROFILES) {
    const m = parsed[name]?.CostMatrix;
    if (!m || ![m.tpWeight, m.fpWeight, m.fnWeight].every(Number.isFinite)) {
      throw new Error(`${file}: profile ${name} has no CostMatrix with tpWeight, fpWeight, fnWeight`);
    }
    out[name] = { tpWeight: m.tpWeight, fpWeight: m.fpWeight, fnWeight: m.fnWeight };
  }
  return out;
}

/** `timestamp,value` CSV → parallel arrays; rows whose time or value does not parse are an error naming the line. */
export function readNabCsv(file: string): { timestamps: number[]; values: number[] } {
  const timestamps: number[] = [];
  const values: number[] = [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const [time, value] = lines[i]!.split(',');
    const t = parseEventTime(time);
    const v = Number(value);
    if (!Number.isFinite(t) || value === undefined || !Number.isFinite(v)) {
      throw new Error(`${file}:${i + 1}: not "timestamp,value": ${lines[i]}`);
    }
    timestamps.push(t);
    values.push(v);
  }
  return { timestamps, values };
}

/** Every labelled data file under `<nabDir>/data`, sorted by path; `only` keeps the listed paths. */
export function readNabCorpus(nabDir: string, only?: readonly string[]): NabFile[] {
  const labelsFile = join(nabDir, 'labels', 'combined_windows.json');
  if (!existsSync(labelsFile)) {
    throw new Error(`${labelsFile} not found: point at NAB's folder (with data/, labels/, profiles.json)`);
  }
  const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, [string, string][]>;
  const files: NabFile[] = [];
  for (const category of readdirSync(join(nabDir, 'data')).sort()) {
    for (const name of readdirSync(join(nabDir, 'data', category)).sort()) {
      const path = `${category}/${name}`;
      if (!name.endsWith('.csv') || !labels[path] || (only && !only.includes(path))) continue;
      const windows = labels[path].map(([start, end]) => ({ start: parseEventTime(start), end: parseEventTime(end) }));
      const series = name.replace(/\.csv$/, '');
      files.push({ path, category, series, ...readNabCsv(join(nabDir, 'data', path)), windows });
    }
  }
  return files;
}
