import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Everything driftline reads from the environment, in one place. */
export interface Settings {
  /** State: embedded log, embedded warehouse, model artifacts. */
  home: string;
  /** Where input datasets are read from when a command is not given --input. */
  dataDir?: string;
  kafkaBrokers?: string[];
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
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env, configFile?: string): Settings {
  const pipelines = configFile ? readConfigFile(configFile) : {};
  return {
    home: resolve(env.DRIFTLINE_HOME || '.driftline'),
    dataDir: env.DRIFTLINE_DATA_DIR ? resolve(env.DRIFTLINE_DATA_DIR) : undefined,
    kafkaBrokers: env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) : undefined,
    clickhouseUrl: env.CLICKHOUSE_URL || undefined,
    clickhouseDatabase: env.CLICKHOUSE_DATABASE || 'default',
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL || undefined,
    topicPrefix: env.DRIFTLINE_TOPIC_PREFIX ?? '',
    pipelines,
    warehouseFlushMs: positiveOrUndefined(env.DRIFTLINE_WAREHOUSE_FLUSH_MS, 'DRIFTLINE_WAREHOUSE_FLUSH_MS'),
  };
}

function positiveOrUndefined(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of milliseconds, got "${value}"`);
  return n;
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
