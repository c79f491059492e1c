import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../config/settings.ts';
import { EmbeddedLogTransport } from '../connectors/embedded-log/embedded-log.ts';
import { listFiles } from '../connectors/files/list-files.ts';
import { topicSource } from '../connectors/topic-source.ts';
import type { Transport } from '../connectors/transport.ts';
import { type Warehouse, openWarehouse } from '../connectors/warehouse/warehouse.ts';
import { formatMetricsTable } from '../streams/metrics.ts';
import { eventsPipeline } from '../streams/pipelines/events.ts';
import { type PipelineDefinition, topicName } from '../streams/pipelines/pipeline-definition.ts';
import { postingsPipeline } from '../streams/pipelines/postings.ts';
import { newRunId, recordRunMetrics } from '../streams/pipelines/run-metrics.ts';
import { runPipeline } from '../streams/runner.ts';
import { formatRows } from './sql.ts';

interface DemoOptions {
  data?: string;
}

/** Two days of 5-minute readings for three sensors, with a handful of broken rows to show dead letters. */
function generateEventFixtures(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const start = Date.UTC(2026, 0, 1);
  return ['boiler', 'pump', 'fan'].map((sensor, s) => {
    const rows = ['timestamp,value'];
    for (let i = 0; i < 576; i++) {
      const t = new Date(start + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
      const value = 50 + 10 * s + 8 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 6.5;
      rows.push(`${t},${value.toFixed(3)}`);
      if (i % 200 === 199) rows.push(i % 400 === 199 ? 'not a time,1.0' : `${t},n/a`);
    }
    const file = join(dir, `${sensor}.csv`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    return file;
  });
}

/** Publish files to the pipeline's topic and run it until it has consumed everything, as produce + run would. */
async function produceAndRun(definition: PipelineDefinition, files: string[], transport: Transport, warehouse: Warehouse, options: Record<string, unknown>) {
  const settings = loadSettings();
  const topic = topicName({ settings }, definition.inputTopic);
  await transport.ensureTopic(topic, definition.partitions);
  const producer = await transport.producer();
  let produced = 0;
  for await (const batch of definition.read(files)) {
    await producer.send(topic, batch);
    produced += batch.length;
  }
  await producer.close();
  const source = topicSource(transport, { topic, group: 'demo', partitions: definition.partitions });
  const result = await runPipeline(definition.build(source, { transport, warehouse, settings, options }), { untilIdle: true });
  await recordRunMetrics(warehouse, newRunId(), definition.name, result.metrics);
  console.log(`\n${definition.name}: ${produced} records from ${files.length} files through the embedded log in ${(result.durationMs / 1000).toFixed(1)} s`);
  console.log(formatMetricsTable(result.metrics));
}

/** `npm start`: event series (and postings, with a data directory) → embedded log → pipelines → embedded warehouse. */
export async function demoCommand(options: DemoOptions): Promise<void> {
  const settings = loadSettings();
  const dataDir = options.data ?? settings.dataDir;
  const nab = dataDir ? join(dataDir, 'events', 'nab', 'data', 'realKnownCause') : undefined;
  const postingsDir = dataDir ? join(dataDir, 'postings') : undefined;
  const demoHome = join(settings.home, 'demo');
  rmSync(join(demoHome, 'log'), { recursive: true, force: true });

  let eventFiles: string[];
  if (nab && existsSync(nab)) {
    eventFiles = ['nyc_taxi.csv', 'machine_temperature_system_failure.csv'].map((f) => join(nab, f));
    console.log(`driftline demo: real data from ${dataDir}`);
  } else {
    eventFiles = generateEventFixtures(join(demoHome, 'fixtures', 'events'));
    console.log('driftline demo: no data directory given (DRIFTLINE_DATA_DIR or --data), using small generated event fixtures');
  }

  const transport = new EmbeddedLogTransport({ dir: join(demoHome, 'log') });
  const warehouse = await openWarehouse({ ...settings, clickhouseUrl: undefined });
  try {
    await warehouse.ensureTables();
    await produceAndRun(eventsPipeline, eventFiles, transport, warehouse, { windowMinutes: 360 });
    if (postingsDir && existsSync(postingsDir)) await produceAndRun(postingsPipeline, listFiles([postingsDir], postingsPipeline.acceptsFile), transport, warehouse, {});

    const summary = await warehouse.query(
      `SELECT 'events' AS "table", count(*) AS "rows" FROM events UNION ALL SELECT 'postings', count(*) FROM postings UNION ALL SELECT 'dead_letters', count(*) FROM dead_letters`,
    );
    console.log(`\nIn the embedded warehouse (${warehouse.location}):\n${formatRows(summary, 'table')}`);
    const reasons = await warehouse.query('SELECT stage, error, count(*) AS n FROM dead_letters GROUP BY stage, error ORDER BY n DESC LIMIT 5');
    if (reasons.length > 0) console.log(`\nTop dead-letter reasons:\n${formatRows(reasons, 'table')}`);
    console.log('\nQuery it yourself: npx driftline sql "SELECT source, count(*) FROM postings GROUP BY source"');
  } finally {
    await warehouse.close();
    await transport.close();
  }
}
