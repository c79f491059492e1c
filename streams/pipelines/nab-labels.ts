/**
 * NAB's labelled anomaly windows (`labels/combined_windows.json`, beside NAB's `data/` folder): per data file
 * (`realKnownCause/nyc_taxi.csv`) a list of [start, end] timestamps. The events pipeline keys a series by its file
 * name without folder or extension (`nyc_taxi`), which is unique across NAB, so the windows are returned that way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseEventTime } from '../../connectors/files/event-files.ts';
import type { LabelledWindow } from './nab-scoring.ts';

/** Where NAB's windows sit under the data directory (DRIFTLINE_DATA_DIR). */
export const NAB_WINDOWS_PATH = join('events', 'nab', 'labels', 'combined_windows.json');

/**
 * The labels file to score against: the `labelsFile` option, else NAB's under the data directory; undefined if absent.
 */
export function nabWindowsFile(options: Record<string, unknown>, dataDir: string | undefined): string | undefined {
  if (options.labelsFile !== undefined) {
    if (typeof options.labelsFile !== 'string')
      throw new Error(`config option "labelsFile" must be a path, got ${JSON.stringify(options.labelsFile)}`);
    if (!existsSync(options.labelsFile))
      throw new Error(`config option "labelsFile": ${options.labelsFile} does not exist`);
    return options.labelsFile;
  }
  const file = dataDir === undefined ? undefined : join(dataDir, NAB_WINDOWS_PATH);
  return file !== undefined && existsSync(file) ? file : undefined;
}

/** Series key → its labelled windows (epoch ms, inclusive). */
export function readNabWindows(file: string): Map<string, LabelledWindow[]> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out = new Map<string, LabelledWindow[]>();
  for (const [path, windows] of Object.entries(parsed)) {
    const series = basename(path, extname(path));
    if (out.has(series)) throw new Error(`${file}: two series are named ${series}`);
    if (!Array.isArray(windows)) throw new Error(`${file}: windows of ${path} must be a list`);
    out.set(
      series,
      windows.map((w: unknown) => {
        const [start, end] = Array.isArray(w) ? w.map(parseEventTime) : [];
        if (!Number.isFinite(start) || !Number.isFinite(end))
          throw new Error(`${file}: ${path} has a window that is not [start, end]: ${JSON.stringify(w)}`);
        return { start: start!, end: end! };
      }),
    );
  }
  return out;
}
