import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The real datasets: DRIFTLINE_DATA_DIR, else ../shared/data beside the checkout (where CI puts them). */
export function dataDir(): string {
  const dir = resolve(process.env.DRIFTLINE_DATA_DIR ?? '../shared/data');
  if (!existsSync(dir))
    throw new Error(`real test data not found at ${dir}: set DRIFTLINE_DATA_DIR to the shared data directory`);
  return dir;
}

export const dataFile = (...parts: string[]) => join(dataDir(), ...parts);
