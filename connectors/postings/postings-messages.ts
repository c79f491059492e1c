import { basename, dirname, extname } from 'node:path';
import type { RawPosting } from '../../schemas/raw-posting.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { readBrightData } from './brightdata.ts';
import { type CsvColumns, parseCsvMap } from './csv-columns.ts';
import { type CsvFileLayout, glassdoorRecords, loadPostingsCsvConfig, readGlassdoor } from './glassdoor.ts';
import { readHn2013, readHn2026 } from './hn.ts';

/**
 * Postings on a topic: the value is the record's original bytes (a JSON element or a CSV row), and two headers
 * say how to read it again: `posting.source` and `posting.context` (the HN month or run; the CSV header line, its
 * column map and the file's label). So a dead letter carries exactly the bytes the scraper or file delivered.
 */
const SOURCE = 'posting.source';
const CONTEXT = 'posting.context';

type Kind = 'brightdata' | 'glassdoor' | 'hn2013' | 'hn2026' | 'skip';

/** Which reader a file needs, by its name and folder (layout as in the shared data directory). */
export function postingsFileKind(file: string): Kind {
  const name = basename(file);
  if (name === 'classified.json') return 'skip'; // 2026 ground truth, not postings
  if (extname(name).toLowerCase() === '.csv') return 'glassdoor';
  if (/^\d{4}-\d{2}\.json$/.test(name)) return 'hn2013';
  if (name === 'raw.json' && /^\d{4}-\d{2}-\d{2}$/.test(basename(dirname(file)))) return 'hn2026';
  if (['.json', '.jsonl', '.ndjson'].includes(extname(name).toLowerCase())) return 'brightdata';
  return 'skip';
}

export const isPostingsFile = (file: string) => postingsFileKind(file) !== 'skip';

function contextOf(rec: RawPosting, csvFiles: Map<string, CsvFileLayout>): Record<string, unknown> {
  const v = rec.value as Record<string, unknown> | undefined;
  switch (rec.source) {
    case 'hn-2013-2018':
      return { month: v?.month };
    case 'hn-2026':
      return { run: v?.run, fetched_at: v?.fetched_at };
    case 'glassdoor': {
      const layout = csvFiles.get(String(v?.file));
      return { file: v?.file, label: layout?.label ?? null, header: layout?.header, columns: layout?.columns };
    }
    default:
      return {};
  }
}

/** How postings files are read: `csvMap` maps the columns of CSV exports that are not Glassdoor's (csv-columns.ts). */
export interface PostingsReadOptions {
  csvMap?: string | Record<string, unknown>;
  /**
   * A posting's event time, when it was posted, as its normalizer reads it (operators/normalize `postedAt`): handed
   * in, since connectors do not parse postings. Null (no date, or a posting the normalizer rejects): the read time.
   */
  postedAt: (rec: RawPosting, readTime: number) => number | null;
}

/** All postings files as topic messages, read together so duplicates across files and runs are dropped. */
export async function* readPostingsMessages(files: string[], options: PostingsReadOptions): AsyncGenerator<Message[]> {
  const byKind = (kind: Kind) => files.filter((f) => postingsFileKind(f) === kind);
  const csvFiles = new Map<string, CsvFileLayout>();
  const csvMap = options.csvMap === undefined ? undefined : parseCsvMap(options.csvMap);
  const onFile = (file: string, layout: CsvFileLayout) => csvFiles.set(basename(file), layout);
  const now = Date.now();
  const readers = [
    readBrightData(byKind('brightdata')),
    readGlassdoor(byKind('glassdoor'), { csvMap, onFile }),
    readHn2013(byKind('hn2013')),
    readHn2026(byKind('hn2026')),
  ];
  for (const reader of readers) {
    for await (const batch of reader) {
      yield batch.map((rec) => ({
        key: null,
        value: rec.raw,
        timestamp: options.postedAt(rec, now) ?? now,
        headers: { [SOURCE]: rec.source, [CONTEXT]: JSON.stringify(contextOf(rec, csvFiles)) },
      }));
    }
  }
}

const parseJson = (bytes: Buffer): unknown => {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined; // the normalizer rejects it with the precise reason
  }
};

/** A topic message back into the raw posting the normalizers take. */
export function rawPostingFromMessage(value: Buffer, headers: Record<string, string>): RawPosting {
  const source = headers[SOURCE];
  let context: Record<string, unknown> = {};
  try {
    context = JSON.parse(headers[CONTEXT] ?? '{}');
  } catch {
    throw new Error(`header ${CONTEXT} is not valid JSON`);
  }
  switch (source) {
    case 'brightdata-linkedin':
      return { raw: value, source, value: parseJson(value) };
    case 'hn-2013-2018':
      return { raw: value, source, value: { month: String(context.month), post: parseJson(value) } };
    case 'hn-2026':
      return {
        raw: value,
        source,
        value: {
          run: String(context.run),
          fetched_at: (context.fetched_at as string | null) ?? null,
          job: parseJson(value),
        },
      };
    case 'glassdoor': {
      const header = String(context.header ?? '');
      const file = String(context.file ?? '');
      const label = context.label === 0 || context.label === 1 ? context.label : null;
      if (!header) throw new Error('CSV posting without its header (headers posting.context)');
      // messages written before column maps travelled with them were all in the Glassdoor layout
      const config = loadPostingsCsvConfig();
      const columns =
        typeof context.columns === 'object' && context.columns !== null
          ? (context.columns as CsvColumns)
          : config.columns;
      const rows = [
        ...glassdoorRecords(
          Buffer.concat([Buffer.from(`${header}\n`), value]),
          file,
          label,
          { ...config, columns },
          null,
        ),
      ];
      if (rows.length !== 1) throw new Error(`CSV row did not parse as exactly one row (got ${rows.length})`);
      return { ...rows[0]!, raw: value };
    }
    default:
      throw new Error(`unknown or missing ${SOURCE} header: ${JSON.stringify(source)}`);
  }
}
