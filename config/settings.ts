import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type KafkaSecurity, kafkaSecurityFrom } from './kafka-security.ts';

/** Everything driftline reads from the environment, in one place. */
export interface Settings {
  /** State: embedded log, embedded warehouse, model artifacts. */
  home: string;
  /** Where input datasets are read from when a command is not given --input. */
  dataDir?: string;
  kafkaBrokers?: string[];
  /** SASL and TLS for Kafka (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*; see kafka-security.ts). */
  kafkaSecurity?: KafkaSecurity;
  clickhouseUrl?: string;
  /** ClickHouse database for the warehouse tables. Default `default`. */
  clickhouseDatabase: string;
  schemaRegistryUrl?: string;
  /** Prepended to every topic name, so several users or test runs can share one Kafka cluster. */
  topicPrefix: string;
  /** Per-pipeline overrides from --config <file> (JSON). */
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
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env, configFile?: string): Settings {
  const pipelines = configFile ? readConfigFile(configFile) : {};
  return {
    home: resolve(env.DRIFTLINE_HOME || '.driftline'),
    dataDir: env.DRIFTLINE_DATA_DIR ? resolve(env.DRIFTLINE_DATA_DIR) : undefined,
    kafkaBrokers: env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) : undefined,
    // Checked only when Kafka is used (KAFKA_BROKERS set); without it the embedded log needs none of this.
    kafkaSecurity: env.KAFKA_BROKERS ? kafkaSecurityFrom(env) : undefined,
    clickhouseUrl: clickhouseUrlFrom(env),
    clickhouseDatabase: env.CLICKHOUSE_DATABASE || 'default',
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL || undefined,
    topicPrefix: env.DRIFTLINE_TOPIC_PREFIX ?? '',
    pipelines,
    warehouseFlushMs: positiveOrUndefined(env.DRIFTLINE_WAREHOUSE_FLUSH_MS, 'DRIFTLINE_WAREHOUSE_FLUSH_MS'),
    metricsPort: portOrUndefined(env.DRIFTLINE_METRICS_PORT, 'DRIFTLINE_METRICS_PORT'),
    metricsHost: env.DRIFTLINE_METRICS_HOST || '127.0.0.1',
    kafkaOutageMs: secondsAsMs(env.DRIFTLINE_KAFKA_OUTAGE_SECONDS, 'DRIFTLINE_KAFKA_OUTAGE_SECONDS'),
  };
}

/**
 * CLICKHOUSE_URL, with CLICKHOUSE_USER / CLICKHOUSE_PASSWORD as its user name and password when they are set: one
 * URL for every client, and one display form for the redaction (config/redact.ts) to hide the password in.
 */
function clickhouseUrlFrom(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.CLICKHOUSE_URL || undefined;
  if (!url || (!env.CLICKHOUSE_USER && !env.CLICKHOUSE_PASSWORD)) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) throw new Error('CLICKHOUSE_URL must start with http:// or https:// to take CLICKHOUSE_USER / CLICKHOUSE_PASSWORD');
  if (/^[^/?#]*@/.test(url.slice(scheme[0].length))) {
    throw new Error('CLICKHOUSE_URL has a user name already: set the user in CLICKHOUSE_URL or in CLICKHOUSE_USER, not both');
  }
  const userinfo = `${encodeURIComponent(env.CLICKHOUSE_USER || 'default')}:${encodeURIComponent(env.CLICKHOUSE_PASSWORD ?? '')}`;
  return `${scheme[0]}${userinfo}@${url.slice(scheme[0].length)}`;
}

/** A TCP port 0..65535 (0: any free port). */
export function portOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port 0-65535, got "${value}"`);
  return n;
}

function positiveOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of milliseconds, got "${value}"`);
  return n;
}

function secondsAsMs(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n >= 0)) throw new Error(`${name} must be a number of seconds (0 or more), got "${value}"`);
  return n * 1000;
}

function readConfigFile(path: string): Record<string, Record<string, unknown>> {
  if (!existsSync(path)) throw new Error(`config file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const pipelines = (parsed as { pipelines?: unknown }).pipelines ?? {};
  if (typeof pipelines !== 'object' || pipelines === null) throw new Error(`config file ${path}: "pipelines" must be an object`);
  return pipelines as Record<string, Record<string, unknown>>;
}
