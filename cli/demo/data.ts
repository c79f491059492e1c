import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listImageFiles } from '../../connectors/camera/image-directory.ts';
import { listFiles } from '../../connectors/files/list-files.ts';
import { neuDetImagesDir } from '../../models/frames/dataset.ts';
import { rng, shuffleInPlace } from '../../models/seeded-random.ts';
import { eventsPipeline } from '../../streams/pipelines/events.ts';
import { NAB_WINDOWS_PATH } from '../../streams/pipelines/nab-labels.ts';
import { postingsPipeline } from '../../streams/pipelines/postings.ts';
import { ensureFixtures } from './fixtures/index.ts';

/** What the demo runs on: a data directory laid out as shared/data, and the inputs of each pipeline in it. */
export interface DemoData {
  dir: string;
  /** True when the data was generated (no data directory given). */
  generated: boolean;
  /** Postings with a date (Bright Data, HN 2013–2018, HN 2026 with its `classified.json` truth). */
  postings: string[];
  /** NEU-DET images in a seeded order: a camera sees the classes mixed, not one after another. */
  frames: string[];
  events: string[];
  /** NAB's labelled anomaly windows, when present. */
  nabWindows?: string;
}

/** Postings folders replayed; Glassdoor is Model A's training data and has no dates, so it is not on the timeline. */
const TIMELINE_POSTINGS = ['brightdata-linkedin', 'hn-hiring-2013-2018', 'hn-hiring-2026'];
/** With the real NAB data: the two series the README discusses. Generated data: every series there is. */
const REAL_SERIES = ['nyc_taxi.csv', 'machine_temperature_system_failure.csv'];
/** Laid out as shared/data: what the demo needs from a data directory. */
const REQUIRED = [
  join('postings', 'glassdoor-2020'),
  join('frames', 'neu-det', 'images'),
  join('events', 'nab', 'data', 'realKnownCause'),
];

/**
 * The given data directory (checked), or the generated fixtures under `<home>/data` (written if missing; home: the
 * demo's).
 */
export async function prepareDemoData(given: string | undefined, home: string): Promise<DemoData> {
  let dir: string;
  if (given !== undefined) {
    dir = resolve(given);
    if (!existsSync(dir)) throw new Error(`data directory ${dir} does not exist`);
    const missing = REQUIRED.filter((p) => !existsSync(join(dir, p)));
    if (missing.length > 0)
      throw new Error(`data directory ${dir} is not laid out as shared/data: missing ${missing.join(', ')}`);
  } else {
    dir = (await ensureFixtures(join(home, 'data'))).dir;
  }
  const postingsDirs = TIMELINE_POSTINGS.map((p) => join(dir, 'postings', p)).filter(existsSync);
  const nab = join(dir, 'events', 'nab', 'data', 'realKnownCause');
  const realSeries = REAL_SERIES.map((f) => join(nab, f));
  const nabWindows = join(dir, NAB_WINDOWS_PATH);
  return {
    dir,
    generated: given === undefined,
    postings: listFiles(postingsDirs, postingsPipeline.acceptsFile),
    frames: shuffleInPlace(await listImageFiles(neuDetImagesDir(dir)), rng(2026)),
    events: realSeries.every(existsSync) ? realSeries : listFiles([nab], eventsPipeline.acceptsFile),
    nabWindows: existsSync(nabWindows) ? nabWindows : undefined,
  };
}
