import { readFile } from 'node:fs/promises';
import type { RawPosting } from '../../schemas/raw-posting.ts';
import { BATCH, inBatches, jsonRecords } from './batches.ts';

/**
 * Bright Data LinkedIn scraper output (`postings/brightdata-linkedin/*.json`): a JSON array or NDJSON, detected.
 * Each element becomes one raw record; parsing problems are left to the normalizer to reject.
 */
export async function* readBrightData(files: string[], batchSize = BATCH): AsyncGenerator<RawPosting[]> {
  for (const file of files) {
    yield* inBatches(jsonRecords(await readFile(file), 'brightdata-linkedin'), batchSize);
  }
}
