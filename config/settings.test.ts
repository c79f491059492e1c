import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from './settings.ts';

function configFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'driftline-config-')), 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('settings from the environment', () => {
  it('has a default for everything when no variable is set', () => {
    const s = loadSettings({});
    expect(s.home).toBe(resolve('.driftline'));
    expect(s.dataDir).toBeUndefined();
    expect(s.modelsManifest).toBeUndefined();
    expect(s.kafkaBrokers).toBeUndefined();
    expect(s.clickhouseUrl).toBeUndefined();
    expect(s.clickhouseDatabase).toBe('default');
    expect(s.topicPrefix).toBe('');
    expect(s.metricsHost).toBe('127.0.0.1');
    expect(s.warehouseFlushMs).toBeUndefined();
    expect(s.kafkaOutageMs).toBeUndefined();
    expect(s.progressEveryMs).toBeUndefined();
    expect(s.fineTuneDelayMs).toBe(0);
    expect(s.demoSkip).toEqual([]);
    expect(s.pipelines).toEqual({});
  });

  it('takes every variable that is set, paths resolved and lists split', () => {
    const s = loadSettings({
      DRIFTLINE_HOME: 'h',
      DRIFTLINE_DATA_DIR: 'd',
      DRIFTLINE_MODELS_MANIFEST: 'team/models.json',
      KAFKA_BROKERS: 'a:9092, b:9092',
      CLICKHOUSE_URL: 'http://ch:8123',
      CLICKHOUSE_DATABASE: 'dl',
      SCHEMA_REGISTRY_URL: 'http://sr:8081',
      DRIFTLINE_TOPIC_PREFIX: 'me.',
      DRIFTLINE_WAREHOUSE_FLUSH_MS: '50',
      DRIFTLINE_METRICS_PORT: '0',
      DRIFTLINE_METRICS_HOST: '0.0.0.0',
      DRIFTLINE_KAFKA_OUTAGE_SECONDS: '2.5',
      DRIFTLINE_PROGRESS_SECONDS: '0.5',
      DRIFTLINE_FINE_TUNE_DELAY_MS: '100',
      DRIFTLINE_DEMO_SKIP: 'bench, report',
    });
    expect(s).toMatchObject({
      home: resolve('h'),
      dataDir: resolve('d'),
      modelsManifest: resolve('team/models.json'),
      kafkaBrokers: ['a:9092', 'b:9092'],
      clickhouseUrl: 'http://ch:8123',
      clickhouseDatabase: 'dl',
      schemaRegistryUrl: 'http://sr:8081',
      topicPrefix: 'me.',
      warehouseFlushMs: 50,
      metricsPort: 0,
      metricsHost: '0.0.0.0',
      kafkaOutageMs: 2500,
      progressEveryMs: 500,
      fineTuneDelayMs: 100,
      demoSkip: ['bench', 'report'],
    });
  });

  it('names the variable and what it must be when a value is wrong', () => {
    expect(() => loadSettings({ DRIFTLINE_WAREHOUSE_FLUSH_MS: '0' })).toThrow(
      'DRIFTLINE_WAREHOUSE_FLUSH_MS must be a positive number of milliseconds, got "0"',
    );
    expect(() => loadSettings({ DRIFTLINE_METRICS_PORT: '70000' })).toThrow(
      'DRIFTLINE_METRICS_PORT must be a port 0-65535, got "70000"',
    );
    expect(() => loadSettings({ DRIFTLINE_KAFKA_OUTAGE_SECONDS: '-1' })).toThrow(
      'DRIFTLINE_KAFKA_OUTAGE_SECONDS must be a number of seconds (0 or more), got "-1"',
    );
    expect(() => loadSettings({ DRIFTLINE_PROGRESS_SECONDS: 'often' })).toThrow(
      'DRIFTLINE_PROGRESS_SECONDS must be a positive number of seconds, got "often"',
    );
    expect(() => loadSettings({ DRIFTLINE_FINE_TUNE_DELAY_MS: '-5' })).toThrow(
      'DRIFTLINE_FINE_TUNE_DELAY_MS must be a number of milliseconds (0 or more), got "-5"',
    );
  });

  it('treats an empty variable as unset', () => {
    const s = loadSettings({
      DRIFTLINE_WAREHOUSE_FLUSH_MS: '',
      DRIFTLINE_METRICS_PORT: '',
      CLICKHOUSE_URL: '',
      KAFKA_BROKERS: '',
    });
    expect(s.warehouseFlushMs).toBeUndefined();
    expect(s.metricsPort).toBeUndefined();
    expect(s.clickhouseUrl).toBeUndefined();
    expect(s.kafkaBrokers).toBeUndefined();
  });
});

describe('--config files', () => {
  it('hold per-pipeline options under "pipelines"', () => {
    const file = configFile('{"pipelines": {"events": {"windowMinutes": 15}}}');
    expect(loadSettings({}, file).pipelines).toEqual({ events: { windowMinutes: 15 } });
  });

  it('are refused with the reason when missing, not JSON, or of another shape', () => {
    expect(() => loadSettings({}, '/nonexistent/config.json')).toThrow(
      'config file /nonexistent/config.json does not exist',
    );
    expect(() => loadSettings({}, configFile('{"pipelines": '))).toThrow(/is not valid JSON/);
    expect(() => loadSettings({}, configFile('[]'))).toThrow(/must hold a JSON object like \{"pipelines"/);
    expect(() => loadSettings({}, configFile('{"pipeline": {}}'))).toThrow(
      /unknown key "pipeline" \(the only key is "pipelines"\)/,
    );
    expect(() => loadSettings({}, configFile('{"pipelines": []}'))).toThrow(/"pipelines" must be an object/);
    expect(() => loadSettings({}, configFile('{"pipelines": {"events": 15}}'))).toThrow(
      /"pipelines.events" must be an object of options, got 15/,
    );
  });
});
