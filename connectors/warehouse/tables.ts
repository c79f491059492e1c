/**
 * Warehouse tables, kept in the repo as data. Both warehouses (ClickHouse, DuckDB) generate their DDL from these
 * definitions, so the same table and column names exist whichever one a deployment uses.
 *
 * Every table has an `id` (String, the dedup key; composite keys are joined with '/') and a `version` (UInt64 /
 * UBIGINT): redelivered rows (at-least-once) carry the same id, and the row with the highest version wins
 * (ClickHouse: ReplacingMergeTree(version) + FINAL; DuckDB: PRIMARY KEY (id) + upsert).
 *
 * Timestamps: `timestamp_ms` columns are stored as Int64 epoch milliseconds. ClickHouse 18.16 has no DateTime64
 * (DateTime is whole seconds), so a plain Int64 is the only lossless portable choice; convert at query time
 * (ClickHouse: `toDateTime(intDiv(ts, 1000))`; DuckDB: `epoch_ms(ts)`).
 */
export type ColumnType =
  | 'string'
  | 'nullable_string'
  | 'float64'
  | 'nullable_float64'
  | 'int64'
  | 'int32'
  | 'uint8'
  /** Only for `version`: ReplacingMergeTree needs an unsigned (or Date/DateTime) version column. */
  | 'uint64'
  | 'nullable_int32'
  /** Int64 epoch milliseconds (no DateTime64 on ClickHouse 18.16). */
  | 'timestamp_ms'
  | 'nullable_timestamp_ms'
  | 'array_string'
  | 'array_float64'
  /** A JSON document serialised to a String column (no JSON/Map/Object types on 18.16). */
  | 'json_string';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Free text, for humans and `driftline sql` users. */
  doc?: string;
}

export interface TableDef {
  name: string;
  doc: string;
  /** Includes `id` (first) and `version` (second). */
  columns: ColumnDef[];
}

const c = (name: string, type: ColumnType, doc?: string): ColumnDef => (doc ? { name, type, doc } : { name, type });

/** The dedup columns every table starts with. `version` is an unsigned 64-bit integer; larger wins. */
const KEY: ColumnDef[] = [c('id', 'string', 'dedup key'), c('version', 'uint64', 'dedup version: the row with the highest version wins')];

export const TABLES = {
  postings: {
    name: 'postings',
    doc: 'Job postings, normalised.',
    columns: [
      ...KEY,
      c('source', 'string'),
      c('title', 'string'),
      c('company', 'nullable_string'),
      c('location', 'nullable_string'),
      c('description', 'string'),
      c('skills', 'array_string'),
      c('salary_min', 'nullable_float64'),
      c('salary_max', 'nullable_float64'),
      c('salary_currency', 'nullable_string'),
      c('salary_period', 'nullable_string'),
      c('seniority', 'nullable_string'),
      c('employment_type', 'nullable_string'),
      c('posted_at', 'nullable_timestamp_ms'),
      c('scraped_at', 'nullable_timestamp_ms'),
      c('url', 'nullable_string'),
      c('label', 'nullable_int32', '0 = software engineering, 1 = data science, when known'),
    ],
  },
  frames: {
    name: 'frames',
    doc: 'Camera frame metadata (no pixels). id = camera_id/sequence.',
    columns: [
      ...KEY,
      c('camera_id', 'string'),
      c('sequence', 'int64'),
      c('captured_at', 'timestamp_ms'),
      c('width', 'int32'),
      c('height', 'int32'),
      c('channels', 'uint8'),
      c('encoding', 'string'),
      c('brightness', 'nullable_float64', 'mean grey level, 0..1'),
      c('contrast', 'nullable_float64', 'standard deviation of grey levels, 0..1'),
      c('sharpness', 'nullable_float64', 'variance of the Laplacian of the 64×64 image'),
      c('label', 'nullable_string', 'class from the file name, when it has one'),
      c('file', 'nullable_string'),
    ],
  },
  events: {
    name: 'events',
    doc: 'Timestamped numeric events (e.g. NAB series). id = source/key/ts.',
    columns: [...KEY, c('source', 'string'), c('key', 'string'), c('ts', 'timestamp_ms'), c('value', 'float64'), c('attributes', 'json_string')],
  },
  predictions: {
    name: 'predictions',
    doc: 'Model outputs. id = record_id/model_id/model_version.',
    columns: [
      ...KEY,
      c('record_id', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('label', 'int32'),
      c('probabilities', 'array_float64'),
      c('confidence', 'nullable_float64'),
      c('latency_ms', 'float64'),
      c('predicted_at', 'timestamp_ms'),
    ],
  },
  dead_letters: {
    name: 'dead_letters',
    doc: 'Records that failed a stage. id = topic/partition/offset/stage; original is base64.',
    columns: [
      ...KEY,
      c('stage', 'string'),
      c('error', 'string'),
      c('topic', 'string'),
      c('partition', 'int32'),
      c('offset', 'int64'),
      c('key', 'nullable_string'),
      c('original', 'string', 'base64 of the bytes the source read'),
      c('event_time', 'timestamp_ms'),
      c('failed_at', 'timestamp_ms'),
    ],
  },
  pipeline_metrics: {
    name: 'pipeline_metrics',
    doc: 'Per-stage pipeline metrics snapshots.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('stage', 'string'),
      c('at', 'timestamp_ms'),
      c('records_in', 'int64'),
      c('records_out', 'int64'),
      c('dead_letters', 'int64'),
      c('p50_ms', 'nullable_float64'),
      c('p99_ms', 'nullable_float64'),
    ],
  },
} as const satisfies Record<string, TableDef>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** A row as handed to a sink: column name → JS value (numbers for int64/timestamp_ms; bigint is not accepted). */
export type Row = Record<string, unknown>;

export function tableDef(name: TableName | TableDef): TableDef {
  if (typeof name !== 'string') return name;
  const def = (TABLES as Record<string, TableDef>)[name];
  if (!def) throw new Error(`unknown warehouse table "${name}" (known: ${TABLE_NAMES.join(', ')})`);
  return def;
}

/** Composite ids are joined with '/': `compositeId(topic, partition, offset, stage)`. */
export const compositeId = (...parts: (string | number)[]): string => parts.join('/');

/** The `dead_letters` row for a dead letter (id = topic/partition/offset/stage, original as base64). */
export function deadLetterRow(letter: {
  stage: string;
  error: string;
  position: { topic: string; partition: number; offset: number };
  key: string | null;
  original: Buffer;
  eventTime: number;
  failedAt: number;
}): Row {
  const { topic, partition, offset } = letter.position;
  return {
    id: compositeId(topic, partition, offset, letter.stage),
    version: letter.failedAt,
    stage: letter.stage,
    error: letter.error,
    topic,
    partition,
    offset,
    key: letter.key,
    original: letter.original.toString('base64'),
    event_time: letter.eventTime,
    failed_at: letter.failedAt,
  };
}
