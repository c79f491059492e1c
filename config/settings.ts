import { resolve } from 'node:path';
import { readConfigFile } from './config-file.ts';
import {
  listOf,
  nonNegativeMsOrUndefined,
  portOrUndefined,
  positiveMsOrUndefined,
  positiveSecondsAsMs,
  secondsAsMs,
} from './env-values.ts';
import { type KafkaSecurity, kafkaSecurityFrom } from './kafka-security.ts';

/**
 * Everything driftline reads from the environment, in one place: no other module reads `process.env`; they are
 * handed these values. config/README.md has the table of variables, defaults and meanings.
 */
export interface Settings {
  /** State: embedded log, embedded warehouse, model artifacts (DRIFTLINE_HOME, default `.driftline`). */
  home: string;
  /** Where input datasets are read from when a command is not given --input (DRIFTLINE_DATA_DIR). */
  dataDir?: string;
  /** The model registry's manifest (DRIFTLINE_MODELS_MANIFEST); default `<home>/models/manifest.json`. */
  modelsManifest?: string;
  kafkaBrokers?: string[];
  /** SASL and TLS for Kafka (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*; see kafka-security.ts). */
  kafkaSecurity?: KafkaSecurity;
  clickhouseUrl?: string;
  /** ClickHouse database for the warehouse tables. Default `default`. */
  clickhouseDatabase: string;
  schemaRegistryUrl?: string;
  /** Prepended to every topic name, so several users or test runs can share one Kafka cluster. */
  topicPrefix: string;
  /**
   * Per-pipeline options from --config <file> (JSON), as written: each pipeline checks its own section against its
   * typed options (streams/pipelines/registry.ts `pipelineOptions`).
   */
  pipelines: Record<string, Record<string, unknown>>;
  /**
   * Longest a warehouse sink holds rows before inserting them (DRIFTLINE_WAREHOUSE_FLUSH_MS, default 1000). Lower
   * means lower end-to-end latency and more, smaller inserts (ClickHouse prefers few large ones).
   */
  warehouseFlushMs?: number;
  /** Prometheus metrics port of run/replay (DRIFTLINE_METRICS_PORT; off when unset; 0: a free port). */
  metricsPort?: number;
  /** Interface the metrics server listens on (DRIFTLINE_METRICS_HOST, default 127.0.0.1). */
  metricsHost: string;
  /** How long `run` waits out a Kafka broker that went away mid-run (DRIFTLINE_KAFKA_OUTAGE_SECONDS, default 300). */
  kafkaOutageMs?: number;
  /** Off a terminal, a progress line at most this often (DRIFTLINE_PROGRESS_SECONDS; default 10 s). */
  progressEveryMs?: number;
  /**
   * Extra wall time before each Model B fine-tune (DRIFTLINE_FINE_TUNE_DELAY_MS, default 0): how a slower machine
   * behaves. The replay tests use it to show event-time training does not depend on it.
   */
  fineTuneDelayMs: number;
  /** Demo steps to leave out (DRIFTLINE_DEMO_SKIP, comma-separated: `bench`, `report`); checked by the demo. */
  demoSkip: string[];
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env, configFile?: string): Settings {
  const pipelines = configFile ? readConfigFile(configFile) : {};
  return {
    home: resolve(env.DRIFTLINE_HOME || '.driftline'),
    dataDir: env.DRIFTLINE_DATA_DIR ? resolve(env.DRIFTLINE_DATA_DIR) : undefined,
    modelsManifest: env.DRIFTLINE_MODELS_MANIFEST ? resolve(env.DRIFTLINE_MODELS_MANIFEST) : undefined,
    kafkaBrokers: env.KAFKA_BROKERS
      ? env.KAFKA_BROKERS.split(',')
          .map((b) => b.trim())
          .filter(Boolean)
      : undefined,
    // Checked only when Kafka is used (KAFKA_BROKERS set); without it the embedded log needs none of this.
    kafkaSecurity: env.KAFKA_BROKERS ? kafkaSecurityFrom(env) : undefined,
    clickhouseUrl: clickhouseUrlFrom(env),
    clickhouseDatabase: env.CLICKHOUSE_DATABASE || 'default',
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL || undefined,
    topicPrefix: env.DRIFTLINE_TOPIC_PREFIX ?? '',
    pipelines,
    warehouseFlushMs: positiveMsOrUndefined(env.DRIFTLINE_WAREHOUSE_FLUSH_MS, 'DRIFTLINE_WAREHOUSE_FLUSH_MS'),
    metricsPort: portOrUndefined(env.DRIFTLINE_METRICS_PORT, 'DRIFTLINE_METRICS_PORT'),
    metricsHost: env.DRIFTLINE_METRICS_HOST || '127.0.0.1',
    kafkaOutageMs: secondsAsMs(env.DRIFTLINE_KAFKA_OUTAGE_SECONDS, 'DRIFTLINE_KAFKA_OUTAGE_SECONDS'),
    progressEveryMs: positiveSecondsAsMs(env.DRIFTLINE_PROGRESS_SECONDS, 'DRIFTLINE_PROGRESS_SECONDS'),
    fineTuneDelayMs: nonNegativeMsOrUndefined(env.DRIFTLINE_FINE_TUNE_DELAY_MS, 'DRIFTLINE_FINE_TUNE_DELAY_MS') ?? 0,
    demoSkip: listOf(env.DRIFTLINE_DEMO_SKIP),
  };
}

/** The settings of a driftline command: this process's environment, and the command's --config file if given. */
export const commandSettings = (configFile?: string): Settings => loadSettings(process.env, configFile);

/**
 * CLICKHOUSE_URL, with CLICKHOUSE_USER / CLICKHOUSE_PASSWORD as its user name and password when they are set: one
 * URL for every client, and one display form for the redaction (config/redact.ts) to hide the password in.
 */
function clickhouseUrlFrom(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.CLICKHOUSE_URL || undefined;
  if (!url || (!env.CLICKHOUSE_USER && !env.CLICKHOUSE_PASSWORD)) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme)
    throw new Error('CLICKHOUSE_URL must start with http:// or https:// to take CLICKHOUSE_USER / CLICKHOUSE_PASSWORD');
  if (/^[^/?#]*@/.test(url.slice(scheme[0].length))) {
    throw new Error(
      'CLICKHOUSE_URL has a user name already: set the user in CLICKHOUSE_URL or in CLICKHOUSE_USER, not both',
    );
  }
  const user = encodeURIComponent(env.CLICKHOUSE_USER || 'default');
  const userinfo = `${user}:${encodeURIComponent(env.CLICKHOUSE_PASSWORD ?? '')}`;
  return `${scheme[0]}${userinfo}@${url.slice(scheme[0].length)}`;
}
