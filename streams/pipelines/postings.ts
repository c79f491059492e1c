import { isPostingsFile, rawPostingFromMessage, readPostingsMessages } from '../../connectors/postings/postings-messages.ts';
import { conformsTo } from '../../operators/basic/conforms-to.ts';
import { type JobPosting, normalizePosting } from '../../operators/normalize/index.ts';
import { Pipeline } from '../pipeline.ts';
import { pipelineDeadLetters } from './dead-letters.ts';
import type { PipelineDefinition } from './pipeline-definition.ts';

/** The `postings` warehouse row; `version` lets a re-scraped posting replace the older copy. */
export const postingRow = (p: JobPosting, version: number) => ({ ...p, version });

/**
 * postings (scraper JSON, CSV, HN) → parse → normalize → schema check → warehouse.postings
 *                                     ↘ dead letters (dead_letters table, postings.dlq)
 */
export const postingsPipeline: PipelineDefinition = {
  name: 'postings',
  description: 'Scraped and exported job postings → normalized JobPosting records in the warehouse',
  inputTopic: 'postings',
  partitions: 4,
  acceptsFile: isPostingsFile,
  read: readPostingsMessages,
  build(source, context) {
    const p = new Pipeline('postings').deadLetters(pipelineDeadLetters(context, 'postings'));
    p.from(source)
      .map('parse', (bytes, record) => rawPostingFromMessage(bytes, record.headers))
      .map('normalize', (raw) => normalizePosting(raw))
      .through(conformsTo<JobPosting>('schema', 'JobPosting'))
      .keyBy('by-id', (posting) => posting.id)
      .to(context.warehouse.sink<JobPosting>('postings', (r) => postingRow(r.value, r.eventTime), { deadLetters: 'table' }));
    return p;
  },
};
