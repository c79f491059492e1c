import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../config/settings.ts';
import { EmbeddedLogTransport } from '../connectors/embedded-log/embedded-log.ts';
import { topicSource } from '../connectors/topic-source.ts';
import type { Transport } from '../connectors/transport.ts';
import { formatMetricsTable } from '../streams/metrics.ts';
import { eventsPipeline } from '../streams/pipelines/events.ts';
import { topicName } from '../streams/pipelines/pipeline-definition.ts';
import { runPipeline } from '../streams/runner.ts';

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

async function readTopic(transport: Transport, topic: string): Promise<Buffer[]> {
  await transport.ensureTopic(topic, 1);
  const consumer = await transport.consumer({ group: `demo-read-${Date.now()}`, topics: [topic] });
  const values: Buffer[] = [];
  for (;;) {
    const batches = await consumer.poll(50);
    for (const b of batches) for (const m of b.messages) values.push(m.value);
    if (batches.length === 0 && (await consumer.caughtUp())) break;
  }
  await consumer.close();
  return values;
}

/** `npm start`: generated or real event series → embedded log → events pipeline → summary. No servers. */
export async function demoCommand(options: DemoOptions): Promise<void> {
  const settings = loadSettings();
  const dataDir = options.data ?? settings.dataDir;
  const nab = dataDir ? join(dataDir, 'events', 'nab', 'data', 'realKnownCause') : undefined;
  const demoHome = join(settings.home, 'demo');
  rmSync(join(demoHome, 'log'), { recursive: true, force: true });

  let files: string[];
  if (nab && existsSync(nab)) {
    files = ['nyc_taxi.csv', 'machine_temperature_system_failure.csv'].map((f) => join(nab, f));
    console.log(`driftline demo: real NAB series from ${nab}`);
  } else {
    files = generateEventFixtures(join(demoHome, 'fixtures', 'events'));
    console.log('driftline demo: no data directory given (DRIFTLINE_DATA_DIR or --data), using small generated fixtures');
  }

  const transport = new EmbeddedLogTransport({ dir: join(demoHome, 'log') });
  const topic = (name: string) => topicName({ settings }, name);
  try {
    // 1. Publish the series to the embedded log, as `driftline produce events <files>` would.
    await transport.ensureTopic(topic(eventsPipeline.inputTopic), eventsPipeline.partitions);
    const producer = await transport.producer();
    let produced = 0;
    for (const file of files) {
      for await (const batch of eventsPipeline.readFile(file)) {
        await producer.send(topic(eventsPipeline.inputTopic), batch);
        produced += batch.length;
      }
    }
    await producer.close();
    console.log(`1/2 produced ${produced} events to the embedded log (${join(demoHome, 'log')})`);

    // 2. Run the pipeline until it has consumed everything, as `driftline run events --until-idle` would.
    const source = topicSource(transport, { topic: topic(eventsPipeline.inputTopic), group: 'demo', partitions: eventsPipeline.partitions });
    const pipeline = eventsPipeline.build(source, { transport, settings, options: { windowMinutes: 360 } });
    const result = await runPipeline(pipeline, { untilIdle: true });
    console.log(`2/2 ran the events pipeline in ${(result.durationMs / 1000).toFixed(1)} s\n`);
    console.log(formatMetricsTable(result.metrics));

    const windows = (await readTopic(transport, topic('events.windows'))).map((b) => JSON.parse(b.toString()));
    const dead = await readTopic(transport, topic('events.dlq'));
    const bySeries = new Map<string, number>();
    for (const w of windows) bySeries.set(w.key, (bySeries.get(w.key) ?? 0) + 1);
    console.log(`\nSummary: ${produced} events in, ${windows.length} six-hour windows out, ${dead.length} dead letters (events.dlq)`);
    for (const [series, count] of bySeries) {
      const last = windows.filter((w) => w.key === series).at(-1);
      const mean = last.value.sum / last.value.count;
      console.log(`  ${series}: ${count} windows; last ${new Date(last.start).toISOString()} mean ${mean.toFixed(2)} min ${last.value.min} max ${last.value.max}`);
    }
  } finally {
    await transport.close();
  }
}
