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
  | 'nullable_int64'
  | 'int32'
  | 'uint8'
  /** A 0/1 flag that may be unknown. */
  | 'nullable_uint8'
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
const KEY: ColumnDef[] = [
  c('id', 'string', 'dedup key'),
  c('version', 'uint64', 'dedup version: the row with the highest version wins'),
];

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
    doc:
      'Timestamped numeric events (e.g. NAB series). id = source/key/ts/value: two readings at one time with ' +
      'different values are both kept.',
    columns: [
      ...KEY,
      c('source', 'string'),
      c('key', 'string'),
      c('ts', 'timestamp_ms'),
      c('value', 'float64'),
      c('attributes', 'json_string'),
    ],
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
    doc:
      'Records that failed a stage. id = topic/partition/offset/stage; original is base64. Every dead letter ' +
      'fits: text is made valid Unicode and bounded (dead-letter-row.ts).',
    columns: [
      ...KEY,
      c('stage', 'string'),
      c('error', 'string'),
      c('topic', 'string'),
      c('partition', 'int32'),
      c('offset', 'int64'),
      c('key', 'nullable_string'),
      c('original', 'string', 'base64 of the bytes the source read'),
      c(
        'event_time',
        'timestamp_ms',
        "0 when the record's event time was not an integer that fits (then in event_time_original)",
      ),
      c('failed_at', 'timestamp_ms'),
      c(
        'event_time_original',
        'nullable_string',
        'the event time as the record had it, when event_time could not hold it (NaN, 1.5, 9e18)',
      ),
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
      c(
        'stage_index',
        'nullable_int32',
        'position in the dataflow: the source 0, every stage after its upstream, dead letters last; null in rows ' +
          'written before it was recorded',
      ),
      c('at', 'timestamp_ms'),
      c('records_in', 'int64'),
      c('records_out', 'int64'),
      c('dead_letters', 'int64'),
      c('p50_ms', 'nullable_float64'),
      c('p99_ms', 'nullable_float64'),
    ],
  },
  label_queue: {
    name: 'label_queue',
    doc: 'Predictions picked for human labelling by uncertainty-sample. id = record_id/model_id.',
    columns: [
      ...KEY,
      c('record_id', 'string'),
      c('pipeline', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('method', 'string', 'margin | entropy | least_confidence'),
      c('score', 'float64', 'uncertainty: higher = less sure'),
      c('top_probability', 'float64'),
      c('predicted_label', 'int32'),
      c('reason', 'string', 'why it was queued, e.g. "margin 0.08, top 0.54 in [0.4, 0.7]"'),
      c('payload_ref', 'string', 'where the input lives (table/id, file, topic/partition@offset)'),
      c('queued_at', 'timestamp_ms'),
    ],
  },
  labels: {
    name: 'labels',
    doc: 'Ground truth for records (human labels, imported files, late-arriving truth). id = record_id.',
    columns: [
      ...KEY,
      c('record_id', 'string'),
      c('label', 'int32'),
      c('label_name', 'nullable_string'),
      c('source', 'string', 'who or what labelled it: a user, a file, classified.json, …'),
      c('labeled_at', 'timestamp_ms'),
      c('received_at', 'timestamp_ms'),
    ],
  },
  drift_metrics: {
    name: 'drift_metrics',
    doc:
      'One drift test of one feature in one window against the model version reference profile. id = ' +
      'pipeline/model_id/model_version/window_start/feature/test.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('window_count', 'int64', 'records in the window'),
      c('reference_count', 'int64', 'records in the reference profile'),
      c('feature', 'string', "feature name; 'dataset' for the dataset-level verdict"),
      c('kind', 'string', 'numeric | categorical | dataset | detector'),
      c('test', 'string', 'ks | wasserstein | psi | chi_square | jensen_shannon | share | adwin | page_hinkley'),
      c('statistic', 'float64', 'the test statistic or distance'),
      c('p_value', 'nullable_float64', 'for ks and chi_square'),
      c('threshold', 'float64'),
      c('drifted', 'uint8'),
      c('details', 'json_string', 'test-specific extras (bins, shares, warnings)'),
    ],
  },
  drift_alerts: {
    name: 'drift_alerts',
    doc: 'Drift alerts: dataset-level drift and change points. id = pipeline/model_id/window_start/feature/kind.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('feature', 'string'),
      c('kind', 'string', 'dataset_drift | feature_drift | change_point | accuracy_estimate'),
      c('severity', 'string', 'minor | major'),
      c('message', 'string'),
      c('event_time', 'timestamp_ms'),
    ],
  },
  keyword_skew: {
    name: 'keyword_skew',
    doc:
      'Terms whose share of documents rose or fell most against the reference, per window. id = ' +
      'run_id/pipeline/model_id/model_version/key/window_start/direction/term.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('term', 'string'),
      c('direction', 'string', 'emerging | vanishing'),
      c('rank', 'int32'),
      c('reference_share', 'float64', 'share of reference documents containing the term'),
      c('window_share', 'float64', 'share of window documents containing the term'),
      c('log_ratio', 'float64', 'log((window + 0.5/n) / (reference + 0.5/m)), smoothed'),
    ],
  },
  pseudo_labels: {
    name: 'pseudo_labels',
    doc: 'Confident Model A predictions accepted as training examples for Model B. id = record_id.',
    columns: [
      ...KEY,
      c('record_id', 'string'),
      c('pipeline', 'string'),
      c('source_model_id', 'string'),
      c('source_model_version', 'string'),
      c('label', 'int32'),
      c('confidence', 'float64'),
      c('window_start', 'timestamp_ms'),
      c('accepted_at', 'timestamp_ms'),
    ],
  },
  pseudo_label_windows: {
    name: 'pseudo_label_windows',
    doc:
      'Pseudo-labelling per window: candidates, accepted, rejections by reason, accept rate, alarm. id = ' +
      'run_id/pipeline/window_start.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('predictions', 'int64'),
      c('confident', 'int64', 'confidence above the threshold'),
      c('accepted', 'int64'),
      c('rejected_class_cap', 'int64'),
      c('rejected_drift_pause', 'int64'),
      c('rejected_own_model', 'int64'),
      c('accept_rate', 'float64', 'accepted / predictions'),
      c('alarm', 'uint8', '1 when the accept rate collapsed to zero'),
      c('paused', 'uint8', '1 when dataset-level drift paused pseudo-labelling'),
    ],
  },
  model_comparison: {
    name: 'model_comparison',
    doc:
      'Model A vs Model B per window: agreement, accuracy of each where labels exist (late labels re-emit the ' +
      'row with a higher version), and accuracy estimated from calibrated confidence (CBPE). id = ' +
      'run_id/pipeline/window_start/model_a/model_b.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('window_start', 'timestamp_ms'),
      c('window_end', 'timestamp_ms'),
      c('model_a', 'string', 'id@version(s) of A seen in the window'),
      c('model_b', 'string', 'id@version(s) of B seen in the window'),
      c('records', 'int64'),
      c('agreement', 'float64', 'share of records where A and B predict the same class'),
      c('labeled', 'int64'),
      c('correct_a', 'int64'),
      c('correct_b', 'int64'),
      c('accuracy_a', 'nullable_float64'),
      c('accuracy_b', 'nullable_float64'),
      c('updated_at', 'timestamp_ms'),
      c(
        'estimated_accuracy_a',
        'nullable_float64',
        'CBPE: mean calibrated top-class probability of A in the window; null without calibrations for every ' +
          'version of A in it',
      ),
      c('estimated_accuracy_b', 'nullable_float64', 'same for B'),
      c(
        'reference_accuracy_a',
        'nullable_float64',
        'held-out accuracy of the version(s) of A the estimate is held against',
      ),
      c('reference_accuracy_b', 'nullable_float64'),
      c(
        'estimate_method',
        'nullable_string',
        'calibration method(s) behind the estimates: isotonic | platt | isotonic,platt',
      ),
      c(
        'estimate_alert_a',
        'nullable_uint8',
        '1 when estimated_accuracy_a < reference_accuracy_a − margin (default 0.05)',
      ),
      c('estimate_alert_b', 'nullable_uint8'),
    ],
  },
  training_runs: {
    name: 'training_runs',
    doc:
      'Model B fine-tunes: trigger, data, holdout comparison with the current B and with A, promotion decision. ' +
      'id = run_id/model_id/version.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('model_id', 'string'),
      c('candidate_version', 'string', 'the candidate version registered'),
      c('parent', 'nullable_string', 'id@version it was fine-tuned from'),
      c('trigger', 'string', 'labels | drift | schedule | manual'),
      c('pseudo_examples', 'int64'),
      c('human_examples', 'int64'),
      c('train_seconds', 'float64'),
      c('holdout_size', 'int64'),
      c('candidate_accuracy', 'float64'),
      c('current_accuracy', 'nullable_float64', 'current production B on the same holdout'),
      c('model_a_accuracy', 'nullable_float64', 'frozen Model A on the same holdout'),
      c('promoted', 'uint8'),
      c('reason', 'string'),
      c('started_at', 'timestamp_ms'),
      c('finished_at', 'timestamp_ms'),
      c(
        'trigger_event_time',
        'nullable_timestamp_ms',
        'event time the fine-tune was triggered at (event-time training): its data is what was usable by then',
      ),
      c(
        'in_force_from',
        'nullable_timestamp_ms',
        'when promoted in event time: the first event time the version scores',
      ),
    ],
  },
  anomaly_scores: {
    name: 'anomaly_scores',
    doc:
      "A run's drift alerts per series scored against labelled anomaly windows (NAB), at end of input. id = " +
      'run_id/pipeline/series.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('series', 'string', 'record key of the series, e.g. nyc_taxi'),
      c('alerts', 'int64', 'drift alerts of the series'),
      c('alerts_in_windows', 'int64', 'alerts inside a labelled window (true positives)'),
      c('labelled_windows', 'int64'),
      c('windows_detected', 'int64', 'labelled windows with at least one alert'),
      c('precision', 'nullable_float64', 'alerts_in_windows / alerts; null without alerts'),
      c('recall', 'nullable_float64', 'windows_detected / labelled_windows'),
    ],
  },
  event_anomaly_scores: {
    name: 'event_anomaly_scores',
    doc:
      "Each event's online anomaly score (operators/anomaly/) and the signals behind it. id = " +
      'pipeline/source/key/ts/value: set by the input, so a replay or redelivery replaces its own rows.',
    columns: [
      ...KEY,
      c('run_id', 'string', 'the run that last wrote the row'),
      c('pipeline', 'string'),
      c('source', 'string'),
      c('key', 'string', 'series'),
      c('ts', 'timestamp_ms'),
      c('value', 'float64'),
      c('score', 'float64', 'anomaly score in [0, 1]'),
      c('z_score', 'float64', 'robust z against the previous values (median, MAD)'),
      c('likelihood', 'float64', 'anomaly likelihood of the recent robust z'),
      c('novelty', 'uint8', '1: beyond the range the series had shown'),
      c('change', 'uint8', '1: ADWIN change point'),
      c('alert', 'uint8', '1: score ≥ threshold (a row in anomaly_alerts)'),
      c('threshold', 'float64', 'the alert threshold the run used'),
    ],
  },
  anomaly_alerts: {
    name: 'anomaly_alerts',
    doc:
      'Events whose anomaly score reached the alert threshold. id = pipeline/source/key/ts/value, as in ' +
      'event_anomaly_scores.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('source', 'string'),
      c('key', 'string', 'series'),
      c('ts', 'timestamp_ms'),
      c('value', 'float64'),
      c('score', 'float64'),
      c('threshold', 'float64'),
      c('reason', 'string', 'the signals that fired: likelihood | novelty | change'),
    ],
  },
  pipeline_runs: {
    name: 'pipeline_runs',
    doc:
      'One row per pipeline run or replay process (written when it ends): throughput, end-to-end latency and ' +
      'consumer lag. id = run_id/pipeline/started_at (a live run id is shared by its restarts); version = ended_at.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('pipeline', 'string'),
      c('mode', 'string', 'run | replay | bench'),
      c('transport', 'string', 'kafka | embedded | memory | files'),
      c('warehouse', 'string', 'clickhouse | duckdb'),
      c('started_at', 'timestamp_ms'),
      c('ended_at', 'timestamp_ms'),
      c('records_in', 'int64', 'records read from the source'),
      c(
        'records_per_s',
        'float64',
        'records_in / wall-clock duration (start-up included: connecting, joining the group, loading models)',
      ),
      c(
        'e2e_p50_ms',
        'nullable_float64',
        "end-to-end latency, median: from the record's send time (header driftline.sent_at, set by driftline " +
          'produce; else the time the source read it; ' +
          'replays always from the read time, as event times are not wall clock) to the moment its own rows were ' +
          'written: the last acknowledgement ' +
          'of its source batch by a sink not behind a window (windows hold records until event time closes them). ' +
          'Histogram bucket bound (+25 % at most); null when nothing was acknowledged',
      ),
      c('e2e_p99_ms', 'nullable_float64', 'same, 99th percentile'),
      c(
        'max_consumer_lag',
        'nullable_int64',
        'largest lag sampled about every second (records behind the log end, summed over the partitions the run ' +
          'has read from); null for --input files and replays',
      ),
      c('dead_letters', 'int64'),
      c(
        'late_records',
        'nullable_int64',
        "records that arrived after every window they belong to had closed (a window's late output, e.g. topic " +
          'events.late): in no window; null for rows written before this column',
      ),
    ],
  },
  bench_runs: {
    name: 'bench_runs',
    doc: 'One row per `driftline bench` run: the machine and software it ran on. id = run_id.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('started_at', 'timestamp_ms'),
      c('ended_at', 'timestamp_ms'),
      c('quick', 'uint8', '1 for --quick'),
      c('cpu_model', 'string'),
      c('cores', 'int32'),
      c('memory_gb', 'float64'),
      c('node_version', 'string'),
      c('onnxruntime_version', 'string'),
      c('tfjs_version', 'string'),
      c('energy_method', 'string', 'rapl | estimate'),
      c('watts_per_core', 'nullable_float64', 'power figure used by the estimate; null with rapl'),
      c('repeats', 'int32'),
    ],
  },
  bench_results: {
    name: 'bench_results',
    doc:
      'One row per model × variant × backend × scenario × batch size × threads of a bench run. id = ' +
      'run_id/model/variant/backend/scenario/batch/threads.',
    columns: [
      ...KEY,
      c('run_id', 'string'),
      c('model_id', 'string'),
      c('model_version', 'string'),
      c('variant', 'string', 'fp32 | int8 | fp16'),
      c('backend', 'string', 'onnxruntime | tfjs-wasm'),
      c('scenario', 'string', 'SingleStream | Offline | Server'),
      c('batch_size', 'int32'),
      c('threads', 'int32', 'intra-op threads'),
      c('repeats', 'int32'),
      c(
        'p50_ms',
        'nullable_float64',
        'latency per query (one item in SingleStream, one batch in Offline), median over repeats',
      ),
      c('p90_ms', 'nullable_float64'),
      c('p99_ms', 'nullable_float64'),
      c('p50_ms_min', 'nullable_float64', 'spread of p50 over repeats'),
      c('p50_ms_max', 'nullable_float64'),
      c('items_per_s', 'float64', 'median over repeats'),
      c('items_per_s_min', 'float64'),
      c('items_per_s_max', 'float64'),
      c(
        'server_rate',
        'nullable_float64',
        'Server: highest Poisson arrival rate (items/s) whose p99 stayed under server_bound_ms',
      ),
      c('server_bound_ms', 'nullable_float64'),
      c('peak_rss_mb', 'float64'),
      c('model_bytes', 'int64', 'ONNX file size'),
      c('model_memory_mb', 'nullable_float64', 'RSS growth from loading the model'),
      c('energy_j_per_1k', 'float64', 'joules per 1,000 inferences'),
      c('energy_method', 'string', 'rapl | estimate'),
      c('accuracy', 'nullable_float64', 'on the held-out set, as `driftline models eval` reports'),
      c('heldout_rows', 'int64'),
    ],
  },
} as const satisfies Record<string, TableDef>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** A row as handed to a sink: column name → JS value (numbers for int64/timestamp_ms; bigint is not accepted). */
// Row and compositeId belong to the rows' mappers as much as to the tables: defined in schemas/, re-exported here.
export type { Row } from '../../schemas/warehouse-row.ts';

export function tableDef(name: TableName | TableDef): TableDef {
  if (typeof name !== 'string') return name;
  const def = (TABLES as Record<string, TableDef>)[name];
  if (!def) throw new Error(`unknown warehouse table "${name}" (known: ${TABLE_NAMES.join(', ')})`);
  return def;
}

export { compositeId } from '../../schemas/warehouse-row.ts';
